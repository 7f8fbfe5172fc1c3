import EdgeCensusBuffer
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` publishing to a real broker that the test starts.
@Suite("edgecensus run with MQTT", .tags(.broker), .serialized)
struct RunWithMQTTTests {
    static func config(
        _ directory: TemporaryDirectory, port: Int, realtime: Bool, device: String = "hall",
        healthInterval: Int = 1
    ) throws -> String {
        let path = directory.file("edgecensus.yaml")
        let text = """
            device: {id: \(device)}
            source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: \(realtime), start_time: "2026-01-01T09:00:00Z"}
            windows: {length: 20}
            state: {directory: \(directory.file("state"))}
            mqtt: {host: 127.0.0.1, port: \(port), health_interval: \(healthInterval)}
            """
        try writeFile(path, Data(text.utf8))
        return path
    }

    @Test("a whole run on the sample: every window on counts, the last on state, online then stopped")
    func wholeRun() async throws {
        let broker = try MosquittoBroker()
        let everything = try await Subscriber(port: broker.port, topics: ["#"])
        defer { everything.stop() }
        let directory = try TemporaryDirectory()
        let result = try ProcessRunner.run(
            TestPaths.executable,
            [
                "run", "--models", TestPaths.models, "--config",
                try Self.config(directory, port: broker.port, realtime: false),
            ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)  // with MQTT on, windows go to the broker
        let counts = try await everything.wait(for: "edgecensus/hall/counts", count: 3)
        let people = try counts.map {
            try (JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["people"] as? Int
        }
        #expect(people == [1, 3, 2])
        let status = try await everything.wait(for: "edgecensus/hall/status", count: 2)
        #expect(status.map(\.text) == ["online", "stopped"])
    }

    @Test(
        "privacy: everything a whole run publishes (seen on #) follows the published JSON Schemas and carries no box, image or track; the run writes no file but its sequence number, its offline buffer, which holds counts documents only, the list of discovery topics it announced and the topic base it published under"
    )
    func privacy() async throws {
        let broker = try MosquittoBroker()
        let everything = try await Subscriber(port: broker.port, topics: ["#"])
        defer { everything.stop() }
        let directory = try TemporaryDirectory()
        let audit = try FileWriteAudit.run(
            TestPaths.executable,
            [
                "run", "--models", TestPaths.models, "--config",
                try Self.config(directory, port: broker.port, realtime: false),
            ])
        #expect(audit.result.status == 0, "\(audit.result.standardError)")
        _ = try await everything.wait(for: "edgecensus/hall/status", count: 2)
        _ = try await everything.wait(for: "edgecensus/hall/health")
        let layout = TopicLayout(device: "hall")
        let messages = await everything.inbox.messages
        var payloads: [(label: String, schema: String, payload: [UInt8])] = []
        for message in messages {
            guard let schema = SchemaValidator.schema(forTopic: message.topic, layout: layout) else {
                Issue.record("\(message.topic) is not a documented topic")
                continue
            }
            payloads.append(("\(message.topic) #\(payloads.count)", schema, message.payload))
            // (config/state names configuration keys such as tracking.track_timeout; its
            // schema allows nothing else.)
            for forbidden in ["box", "landmark", "track", "image", "jpeg", "png", "crop", "embedding", "base64"]
            where !(schema == "config-state" && forbidden == "track") {
                #expect(!message.text.lowercased().contains(forbidden), "\(message.topic) carries \(forbidden)")
            }
            #expect(message.payload.count < 4096, "\(message.topic): \(message.payload.count) bytes")
        }
        #expect(Set(payloads.map(\.schema)) == ["counts", "health", "status", "discovery", "config-state"])
        let problems = try SchemaValidator.problems(payloads)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let state = directory.file("state")
        #expect(audit.written.contains(state + "/sequence"), "the audit saw no write at all: \(audit.written)")
        let outside = audit.written.filter { !$0.hasPrefix(state + "/") && $0 != state }
        #expect(outside.isEmpty, "written outside \(state): \(outside)")
        #expect(
            Set(audit.written.map { URL(fileURLWithPath: $0).lastPathComponent }).isSubset(
                of: [
                    "state", "sequence", "sequence.tmp", "buffer.ring", "discovery-topics", "discovery-topics.tmp",
                    "published-as", "published-as.tmp",
                ]),
            "\(audit.written)")
        #expect(try String(contentsOfFile: state + "/published-as", encoding: .utf8) == "edgecensus/hall\n")
        // The discovery record names the Home Assistant topics announced, and nothing else.
        let record = try String(contentsOfFile: state + "/discovery-topics", encoding: .utf8)
        #expect(
            record.split(separator: "\n").allSatisfy { $0.hasPrefix("homeassistant/") && $0.hasSuffix("/config") },
            "\(record)")
        // The offline buffer holds nothing but counts documents (here: none left, all acknowledged; the
        // records still in the file's bytes are checked too).
        let ring = try [UInt8](Data(contentsOf: URL(fileURLWithPath: state + "/buffer.ring")))
        let stored = (1...3).compactMap { sequence -> (label: String, schema: String, payload: [UInt8])? in
            guard let offset = RingFile.locate(sequence: UInt64(sequence), in: ring) else { return nil }
            let length = ring[(offset + 8)..<(offset + 12)].enumerated().reduce(0) {
                $0 | Int($1.element) << (8 * $1.offset)
            }
            return ("buffer.ring seq \(sequence)", "counts", Array(ring[(offset + 24)..<(offset + 24 + length)]))
        }
        #expect(stored.count == 3)
        let storedProblems = try SchemaValidator.problems(stored)
        #expect(storedProblems.isEmpty, "\(storedProblems.joined(separator: "\n"))")
    }

    @Test(
        "health goes out right after each connect, not a health_interval later: a restarted agent's entities show this run's figures at once"
    )
    func healthOnConnect() async throws {
        let broker = try MosquittoBroker()
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory, port: broker.port, realtime: true, healthInterval: 600)
        let formatter = ISO8601DateFormatter()
        for run in 1...2 {
            let watcher = try await Subscriber(
                port: broker.port, topics: ["edgecensus/hall/status", "edgecensus/hall/health"])
            defer { watcher.stop() }
            // The previous run's report stays retained: this run's is told by its time.
            try await Task.sleep(for: .seconds(1.5))
            let started = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let process = try BackgroundAgent.start(config: config)
            let online = try await watcher.wait(for: "edgecensus/hall/status", count: run == 1 ? 1 : 2)
            #expect(online.last?.text == "online")
            let onlineAt = Date()
            // A report is due at once; 15 s (not 600) leaves room for a loaded machine.
            let deadline = onlineAt.addingTimeInterval(15)
            var fresh = false
            while !fresh && Date() < deadline {
                fresh = await watcher.inbox.on("edgecensus/hall/health").contains { message in
                    let report = (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any]
                    return (report?["time"] as? String).flatMap(formatter.date(from:)).map { $0 >= started } ?? false
                }
                if !fresh { try await Task.sleep(for: .milliseconds(50)) }
            }
            print(
                "run \(run): health \(fresh ? String(format: "%.2f s", Date().timeIntervalSince(onlineAt)) : "not seen") after online"
            )
            #expect(fresh, "run \(run): no health report of this run within 15 s of online (health_interval is 600 s)")
            BackgroundAgent.kill(process)
            _ = try await watcher.wait(for: "edgecensus/hall/status", count: run == 1 ? 2 : 3)
        }
    }

    @Test(
        "after a device id change the old id's retained status, state, health and config/state are cleared, and fleet status lists only the new id"
    )
    func renamedDevice() async throws {
        let broker = try MosquittoBroker()
        let directory = try TemporaryDirectory()
        for device in ["hall", "lobby"] {
            let config = try Self.config(directory, port: broker.port, realtime: false, device: device)
            let result = try await ProcessRunner.runWithoutBlocking(
                TestPaths.executable, ["run", "--models", TestPaths.models, "--config", config],
                timeout: 300)
            #expect(result.status == 0, "\(result.standardError)")
        }
        let retained = try await Subscriber(port: broker.port, topics: ["edgecensus/#"])
        defer { retained.stop() }
        _ = try await retained.wait(for: "edgecensus/lobby/config/state")
        try await Task.sleep(for: .seconds(1))  // the rest of the retained burst
        let topics = Set(await retained.inbox.messages.filter(\.retain).map(\.topic))
        #expect(
            topics.isSuperset(of: [
                "edgecensus/lobby/status", "edgecensus/lobby/state", "edgecensus/lobby/config/state",
            ]), "\(topics)")
        #expect(!topics.contains { $0.hasPrefix("edgecensus/hall/") }, "\(topics)")
        let fleet = try await ProcessRunner.runWithoutBlocking(
            TestPaths.executable, ["fleet", "status", "--mqtt", "127.0.0.1:\(broker.port)"],
            timeout: 60)
        #expect(fleet.status == 0, "\(fleet.standardError)")
        #expect(
            fleet.standardOutput.contains("lobby") && !fleet.standardOutput.contains("hall"), "\(fleet.standardOutput)")
        #expect(
            try String(contentsOfFile: directory.file("state/published-as"), encoding: .utf8) == "edgecensus/lobby\n")
    }

    @Test("a killed agent's will says offline")
    func will() async throws {
        let broker = try MosquittoBroker()
        let watcher = try await Subscriber(port: broker.port, topics: ["edgecensus/hall/status"])
        defer { watcher.stop() }
        let directory = try TemporaryDirectory()
        let process = try BackgroundAgent.start(config: try Self.config(directory, port: broker.port, realtime: true))
        #expect(try await watcher.wait(for: "edgecensus/hall/status").last?.text == "online")
        BackgroundAgent.kill(process)
        let statuses = try await watcher.wait(for: "edgecensus/hall/status", count: 2)
        #expect(statuses.last?.text == "offline")
    }
}
