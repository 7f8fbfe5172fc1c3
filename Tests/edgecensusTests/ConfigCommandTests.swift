import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus config`: the operator's tool.
@Suite("edgecensus config", .serialized)
struct ConfigCommandTests {
    @Test("validate: a good file passes, a bad one is named with its key, exit 2")
    func validate() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file("good.yaml"), Data("throttle: {max_rate_hz: 1}\n".utf8))
        try writeFile(directory.file("bad.yaml"), Data("throttle: {max_rate_hz: 99}\n".utf8))
        let good = try ProcessRunner.run(TestPaths.executable, ["config", "validate", directory.file("good.yaml")])
        #expect(good.status == 0 && good.standardOutput.contains("valid"))
        let bad = try ProcessRunner.run(TestPaths.executable, ["config", "validate", directory.file("bad.yaml")])
        #expect(bad.status == 2 && bad.standardError.contains("throttle.max_rate_hz: 99.0 is out of range"), "\(bad.standardError)")
    }

    @Test("set changes a running device through the broker and prints its answer; a refused change exits 1; show --device reads it back; no device exits 2")
    func setThroughBroker() async throws {
        let broker = try MosquittoBroker()
        let directory = try TemporaryDirectory()
        let config = directory.file("edgecensus.yaml")
        try writeFile(config, Data("""
            device: {id: hall}
            source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: true}
            state: {directory: \(directory.file("state"))}
            mqtt: {host: 127.0.0.1, port: \(broker.port), discovery: false}
            """.utf8))
        let agent = try BackgroundAgent.start(config: config)
        defer { BackgroundAgent.kill(agent) }
        let watcher = try await Subscriber(port: broker.port, topics: ["edgecensus/hall/config/state"])
        defer { watcher.stop() }
        _ = try await watcher.wait(for: "edgecensus/hall/config/state")

        let mqtt = "127.0.0.1:\(broker.port)"
        let set = try ProcessRunner.run(TestPaths.executable, ["config", "set", "throttle.max_rate_hz=0.5", "windows.k_anonymity=3",
                                                               "--device", "hall", "--mqtt", mqtt, "--expect-version", "0"])
        #expect(set.status == 0, "\(set.standardOutput) \(set.standardError)")
        #expect(set.standardOutput.contains("\"status\":\"ok\"") && set.standardOutput.contains("\"config_version\":1"))
        let refused = try ProcessRunner.run(TestPaths.executable, ["config", "set", "throttle.max_rate_hz=fast", "--device", "hall", "--mqtt", mqtt])
        #expect(refused.status == 1 && refused.standardOutput.contains("throttle.max_rate_hz = \\\"fast\\\""), "\(refused.standardOutput)")
        let shown = try ProcessRunner.run(TestPaths.executable, ["config", "show", "--device", "hall", "--mqtt", mqtt])
        #expect(shown.status == 0 && shown.standardOutput.contains("\"max_rate_hz\":0.5"), "\(shown.standardOutput)")
        let local = try ProcessRunner.run(TestPaths.executable, ["config", "show", "--config", config])
        #expect(local.status == 0 && local.standardOutput.contains("version 1") && local.standardOutput.contains("\"k_anonymity\":3"), "\(local.standardOutput)")
        let nobody = try ProcessRunner.run(TestPaths.executable, ["config", "set", "throttle.max_rate_hz=1", "--device", "nobody",
                                                                  "--mqtt", mqtt, "--timeout", "2"])
        #expect(nobody.status == 2 && nobody.standardError.contains("no answer from device 'nobody'"), "\(nobody.standardError)")
    }
}
