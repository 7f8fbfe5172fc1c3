import EdgeCensusBuffer
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` with the broker away: nothing is lost.
@Suite("edgecensus run with the broker away", .tags(.broker), .serialized)
struct RunOfflineBufferTests {
    @Test(
        "windows made while the broker is down survive a SIGKILL and a restart, and all arrive, in order, once each, marked replayed, when it is back"
    )
    func outageAndKill() async throws {
        // The dashboard: a persistent session, so that the broker keeps for it every window
        // published while it is not connected (the replay may be over before it is).
        let port = try MosquittoBroker.freePort()
        let dashboard = "dashboard-\(port)"
        let broker = try MosquittoBroker(port: port, persistent: true)
        try await Subscriber(port: port, topics: ["edgecensus/hall/counts"], id: dashboard, persistentSession: true)
            .stop()
        try broker.waitUntilSaved(after: Date())  // the dashboard's session, on disk
        broker.kill()
        let directory = try TemporaryDirectory()
        let config = directory.file("edgecensus.yaml")
        try writeFile(
            config,
            Data(
                """
                device: {id: hall}
                source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: true}
                windows: {length: 1}
                state: {directory: \(directory.file("state"))}
                buffer: {size_mib: 1, replay_rate_hz: 50}
                mqtt: {host: 127.0.0.1, port: \(port), health_interval: 1, discovery: false}
                """.utf8))
        let log = directory.file("agent.log")
        func startAgent() throws -> Process { try BackgroundAgent.start(config: config, log: log) }
        // No broker: the agent counts on, and every window goes to the ring file.
        let first = try startAgent()
        let ringPath = directory.file("state/buffer.ring")
        var buffered: [UInt64] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, buffered.count < 5 {
            try await Task.sleep(for: .milliseconds(200))
            buffered = (try? RingFile.scan(path: ringPath)) ?? []
        }
        BackgroundAgent.kill(first)
        buffered = try RingFile.scan(path: ringPath)
        #expect(buffered.count >= 5, "\(buffered)")

        // The operator's view of it, without changing it.
        let before = try Data(contentsOf: URL(fileURLWithPath: ringPath))
        let inspect = try ProcessRunner.run(TestPaths.executable, ["buffer", "inspect", ringPath])
        #expect(
            inspect.status == 0
                && inspect.standardOutput.contains(
                    "pending windows: \(buffered.count), seq \(buffered.first!)–\(buffered.last!)"),
            "\(inspect.standardOutput)")
        let export = try ProcessRunner.run(TestPaths.executable, ["buffer", "export", ringPath])
        let exported = export.standardOutput.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int
        }
        #expect(exported.map(UInt64.init) == buffered)
        #expect(try Data(contentsOf: URL(fileURLWithPath: ringPath)) == before)

        // The agent restarts (still no broker), then the broker comes back: the backlog is replayed.
        let second = try startAgent()
        defer { BackgroundAgent.kill(second) }
        try await Task.sleep(for: .seconds(2))
        try broker.start()
        let watcher = try await Subscriber(
            port: port, topics: ["edgecensus/hall/counts"], id: dashboard, persistentSession: true)
        defer { watcher.stop() }
        var replayed: [[String: Any]] = []
        let replayDeadline = Date().addingTimeInterval(60)
        while Date() < replayDeadline {
            replayed = await watcher.inbox.on("edgecensus/hall/counts")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
                .filter { $0["replayed"] as? Bool == true }
            if Set(replayed.compactMap { ($0["seq"] as? Int).map(UInt64.init) }).isSuperset(of: buffered) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let sequences = replayed.compactMap { ($0["seq"] as? Int).map(UInt64.init) }
        #expect(
            Set(sequences).isSuperset(of: buffered),
            "buffered \(buffered), replayed \(sequences); the agents said:\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")\nthe broker said:\n\(broker.log)"
        )
        #expect(sequences == sequences.sorted(), "replayed out of order: \(sequences)")
        #expect(sequences.count == Set(sequences).count, "a window replayed twice: \(sequences)")
        #expect(replayed.allSatisfy { $0["device"] as? String == "hall" })
        // And nothing was sent twice overall: live and replayed windows together, each seq once.
        let all = await watcher.inbox.on("edgecensus/hall/counts")
            .compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["seq"] as? Int
            }
        #expect(all.count == Set(all).count, "\(all)")
    }

    @Test(
        "buffer inspect refuses what is not a ring (garbage, an empty file, /dev/zero, a folder) naming the file given, leaves no copy behind, and names a missing one"
    )
    func inspectRefusesNonRings() throws {
        let directory = try TemporaryDirectory()
        var garbage = SplitMix64(seed: 7)
        try writeFile(
            directory.file("junk.ring"), Data((0..<20_000).map { _ in UInt8.random(in: 0...255, using: &garbage) }))
        try writeFile(directory.file("empty.ring"), Data())
        let copiesBefore = Self.privateCopies()
        for path in [directory.file("junk.ring"), directory.file("empty.ring"), "/dev/zero", directory.path] {
            let result = try ProcessRunner.run(TestPaths.executable, ["buffer", "inspect", path], timeout: 30)
            #expect(
                result.status == 2 && result.standardError.contains("\(path) is not a ring file"),
                "\(path): \(result.standardError)")
            #expect(
                !result.standardError.contains("edgecensus-ring-"), "names the private copy: \(result.standardError)")
        }
        #expect(Self.privateCopies() == copiesBefore, "a private copy was left behind")
        let missing = try ProcessRunner.run(TestPaths.executable, ["buffer", "inspect", directory.file("none.ring")])
        #expect(missing.status == 2 && missing.standardError.contains("no such file"))
    }

    static func privateCopies() -> Set<String> {
        Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter {
                $0.hasPrefix("edgecensus-ring-")
            })
    }
}
