import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus config`: the operator's tool.
@Suite("edgecensus config", .tags(.broker), .serialized)
struct ConfigCommandTests {
    @Test("validate: a good file passes, a bad one is named with its key, exit 2")
    func validate() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file("good.yaml"), Data("throttle: {max_rate_hz: 1}\n".utf8))
        try writeFile(directory.file("bad.yaml"), Data("throttle: {max_rate_hz: 99}\n".utf8))
        let good = try ProcessRunner.run(TestPaths.executable, ["config", "validate", directory.file("good.yaml")])
        #expect(good.status == 0 && good.standardOutput.contains("valid"))
        let bad = try ProcessRunner.run(TestPaths.executable, ["config", "validate", directory.file("bad.yaml")])
        #expect(
            bad.status == 2 && bad.standardError.contains("throttle.max_rate_hz: 99.0 is out of range"),
            "\(bad.standardError)")
    }

    @Test("validate reports every problem of a file at once, each with its key and line")
    func validateEveryProblem() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("three.yaml")
        try writeFile(
            path, Data("windows:\n  length: 0\n  k_anonymity: 1:1:1:1:1:1:1:1:1:1:1:1\nthrottle:\n  max_rate: 3\n".utf8)
        )
        let result = try ProcessRunner.run(TestPaths.executable, ["config", "validate", path])
        #expect(result.status == 2)
        for line in [
            "\(path):2: windows.length: 0.0 is out of range",
            "\(path):3: windows.k_anonymity: 1:1:1:1:1:1:1:1:1:1:1:1 is out of range; expected 0 to 1000",
            "\(path):5: throttle.max_rate: unknown key", "3 problems",
        ] {
            #expect(result.standardError.contains(line), "\(line) not in:\n\(result.standardError)")
        }
    }

    @Test(
        "validate checks what run would refuse at start: a missing model, video, password file and CA file; a missing camera is only a note"
    )
    func validateWhatRunChecks() throws {
        let directory = try TemporaryDirectory()
        let models = try directory.copyOfModels()
        try FileManager.default.removeItem(atPath: models + "/dlib-cydral/age-v1-opencv.onnx")
        let path = directory.file("missing.yaml")
        try writeFile(
            path,
            Data(
                ("models: {directory: \(models)}\n"
                    + "source: {kind: video, path: \(directory.file("none.mp4"))}\n"
                    + "mqtt: {host: localhost, password_file: \(directory.file("none.pass")), tls: {ca_file: \(directory.file("none.pem"))}}\n")
                    .utf8))
        let result = try ProcessRunner.run(TestPaths.executable, ["config", "validate", path])
        #expect(result.status == 2)
        for text in [
            "\(path):1: models.directory: the models cannot be loaded",
            "\(path):2: source.path: the video '\(directory.file("none.mp4"))' does not exist",
            "mqtt.password_file: '\(directory.file("none.pass"))': not found",
            "mqtt.tls.ca_file: '\(directory.file("none.pem"))' does not exist",
        ] {
            #expect(result.standardError.contains(text), "\(text) not in:\n\(result.standardError)")
        }
        let camera = directory.file("camera.yaml")
        try writeFile(camera, Data("source: {kind: camera, device: /dev/video-not-here}\n".utf8))
        let noted = try ProcessRunner.run(TestPaths.executable, ["config", "validate", camera])
        #expect(
            noted.status == 0
                && noted.standardError.contains("note: source.device /dev/video-not-here does not exist now"),
            "\(noted.standardError)")
    }

    @Test(
        "validate blames an incomplete classifier on its own key and line: a custom net without its fields, levi-hassner without weights"
    )
    func validateIncompleteClassifier() throws {
        let directory = try TemporaryDirectory()
        let custom = directory.file("custom.yaml")
        try writeFile(custom, Data("device: {id: a}\nclassification:\n  gender:\n    preset: custom\n".utf8))
        let refused = try ProcessRunner.run(TestPaths.executable, ["config", "validate", custom])
        #expect(refused.status == 2)
        #expect(
            refused.standardError.contains(
                "\(custom):3: classification.gender: a custom classifier needs model, input_size, color_order, mean and scale"
            ), "\(refused.standardError)")
        #expect(!refused.standardError.contains("models.directory"), "\(refused.standardError)")
        let levi = directory.file("levi.yaml")
        try writeFile(levi, Data("classification:\n  age:\n    preset: levi-hassner\n".utf8))
        let unweighted = try ProcessRunner.run(TestPaths.executable, ["config", "validate", levi])
        #expect(unweighted.status == 2)
        #expect(
            unweighted.standardError.contains("\(levi):2: classification.age.weights: the levi-hassner preset needs"),
            "\(unweighted.standardError)")
    }

    @Test(
        "set changes a running device through the broker and prints its answer; a refused change exits 1; show --device reads it back; no device exits 2"
    )
    func setThroughBroker() async throws {
        let broker = try MosquittoBroker()
        let directory = try TemporaryDirectory()
        let config = directory.file("edgecensus.yaml")
        try writeFile(
            config,
            Data(
                """
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
        let set = try ProcessRunner.run(
            TestPaths.executable,
            [
                "config", "set", "throttle.max_rate_hz=0.5", "windows.k_anonymity=3",
                "--device", "hall", "--mqtt", mqtt, "--expect-version", "0",
            ])
        #expect(set.status == 0, "\(set.standardOutput) \(set.standardError)")
        #expect(set.standardOutput.contains("\"status\":\"ok\"") && set.standardOutput.contains("\"config_version\":1"))
        let refused = try ProcessRunner.run(
            TestPaths.executable, ["config", "set", "throttle.max_rate_hz=fast", "--device", "hall", "--mqtt", mqtt])
        #expect(
            refused.status == 1 && refused.standardOutput.contains("throttle.max_rate_hz = \\\"fast\\\""),
            "\(refused.standardOutput)")
        let shown = try ProcessRunner.run(TestPaths.executable, ["config", "show", "--device", "hall", "--mqtt", mqtt])
        #expect(shown.status == 0 && shown.standardOutput.contains("\"max_rate_hz\":0.5"), "\(shown.standardOutput)")
        let local = try ProcessRunner.run(TestPaths.executable, ["config", "show", "--config", config])
        #expect(
            local.status == 0 && local.standardOutput.contains("version 1")
                && local.standardOutput.contains("\"k_anonymity\":3"), "\(local.standardOutput)")
        let nobody = try ProcessRunner.run(
            TestPaths.executable,
            [
                "config", "set", "throttle.max_rate_hz=1", "--device", "nobody",
                "--mqtt", mqtt, "--timeout", "2",
            ])
        #expect(
            nobody.status == 2 && nobody.standardError.contains("no answer from device 'nobody'"),
            "\(nobody.standardError)")
    }
}
