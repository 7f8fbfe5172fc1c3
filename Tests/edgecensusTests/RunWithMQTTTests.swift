import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` publishing to a real broker that the test starts.
@Suite("edgecensus run with MQTT", .serialized)
struct RunWithMQTTTests {
    static func config(_ directory: TemporaryDirectory, port: Int, realtime: Bool) throws -> String {
        let path = directory.file("edgecensus.yaml")
        let text = """
            device: {id: hall}
            source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: \(realtime), start_time: "2026-01-01T09:00:00Z"}
            windows: {length: 20}
            state: {directory: \(directory.file("state"))}
            mqtt: {host: 127.0.0.1, port: \(port), health_interval: 1}
            """
        try writeFile(path, Data(text.utf8))
        return path
    }

    @Test("a whole run on the sample: every window on counts, the last on state, online then stopped — and nothing identifying anywhere")
    func wholeRun() async throws {
        let broker = try MosquittoBroker()
        let everything = try await Subscriber(port: broker.port, topics: ["#"])
        defer { everything.stop() }
        let directory = try TemporaryDirectory()
        let result = try ProcessRunner.run(TestPaths.executable,
                                           ["run", "--models", TestPaths.models, "--config", try Self.config(directory, port: broker.port, realtime: false)])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)  // with MQTT on, windows go to the broker
        let counts = try await everything.wait(for: "edgecensus/hall/counts", count: 3)
        let people = try counts.map { try (JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["people"] as? Int }
        #expect(people == [1, 3, 2])
        let status = try await everything.wait(for: "edgecensus/hall/status", count: 2)
        #expect(status.map(\.text) == ["online", "stopped"])
        // Privacy: every payload is a status word or a JSON document without boxes,
        // landmarks or image bytes; the agent wrote nothing but its sequence number.
        for message in await everything.inbox.messages {
            if ["online", "offline", "stopped"].contains(message.text) { continue }
            let object = try JSONSerialization.jsonObject(with: Data(message.payload))
            let text = message.text
            for forbidden in ["\"box\"", "landmark", "\"x\":", "track", "image", "jpeg", "png"] {
                #expect(!text.lowercased().contains(forbidden), "\(message.topic) carries \(forbidden)")
            }
            #expect(message.payload.count < 4096, "\(message.topic): \(message.payload.count) bytes")
            #expect(object is [String: Any])
        }
        let written = try FileManager.default.subpathsOfDirectory(atPath: directory.file("state"))
        #expect(written == ["sequence"])
    }

    @Test("a killed agent's will says offline")
    func will() async throws {
        let broker = try MosquittoBroker()
        let watcher = try await Subscriber(port: broker.port, topics: ["edgecensus/hall/status"])
        defer { watcher.stop() }
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        process.arguments = ["run", "--models", TestPaths.models, "--config", try Self.config(directory, port: broker.port, realtime: true)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        #expect(try await watcher.wait(for: "edgecensus/hall/status").last?.text == "online")
        kill(process.processIdentifier, SIGKILL)
        let statuses = try await watcher.wait(for: "edgecensus/hall/status", count: 2)
        #expect(statuses.last?.text == "offline")
    }
}
