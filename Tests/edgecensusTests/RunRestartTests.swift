import EdgeCensusBuffer
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` started again and again on one state directory, the broker up:
/// what the broker acknowledged is never sent again, and window numbers never repeat.
@Suite("edgecensus run restarted on one state directory", .tags(.broker), .serialized)
struct RunRestartTests {
    static let counts = "edgecensus/hall/counts"
    /// Each test's own broker, the dashboard watching `counts` on it, and the agent's directory.
    let broker: MosquittoBroker
    let dashboard: Subscriber
    let directory: TemporaryDirectory

    init() async throws {
        broker = try MosquittoBroker()
        dashboard = try await Subscriber(port: broker.port, topics: [Self.counts])
        directory = try TemporaryDirectory()
    }

    static func config(_ directory: TemporaryDirectory, port: Int, realtime: Bool, windowLength: Int) throws -> String {
        let path = directory.file("edgecensus.yaml")
        try writeFile(
            path,
            Data(
                """
                device: {id: hall}
                source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: \(realtime), start_time: "2026-01-01T09:00:00Z"}
                throttle: {max_rate_hz: 2}
                windows: {length: \(windowLength)}
                state: {directory: \(directory.file("state"))}
                mqtt: {host: 127.0.0.1, port: \(port), health_interval: 1, discovery: false}
                """.utf8))
        return path
    }

    static func documents(_ subscriber: Subscriber) async -> [[String: Any]] {
        await subscriber.inbox.on(counts).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
        }
    }

    /// The documents received once the last one is the partial window of a shutdown
    /// (the broker's acknowledgement to the agent may come before the subscriber has it).
    static func documentsAfterShutdown(_ subscriber: Subscriber) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(60)
        var seen = await documents(subscriber)
        while Date() < deadline, seen.last?["partial"] as? Bool != true {
            try await Task.sleep(for: .milliseconds(50))
            seen = await documents(subscriber)
        }
        return seen
    }

    static func inspect(_ ring: String) throws -> String {
        let result = try ProcessRunner.run(TestPaths.executable, ["buffer", "inspect", ring])
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput
    }

    @Test(
        "the sample three times in a row, the broker up: 0 pending after each run, nothing replayed, and a subscriber sees seq 1–9 once each"
    )
    func threeCleanRuns() async throws {
        defer { dashboard.stop() }
        let config = try Self.config(directory, port: broker.port, realtime: false, windowLength: 20)
        let ring = directory.file("state/buffer.ring")
        for run in 1...3 {
            let result = try ProcessRunner.run(
                TestPaths.executable, ["run", "--models", TestPaths.models, "--config", config])
            #expect(result.status == 0, "run \(run): \(result.standardError)")
            #expect(
                !result.standardError.contains("from before are buffered")
                    && !result.standardError.contains("replayed"),
                "run \(run) replayed windows:\n\(result.standardError)")
            let inspected = try Self.inspect(ring)
            #expect(inspected.contains("pending windows: 0,"), "after run \(run):\n\(inspected)")
            _ = try await dashboard.wait(for: Self.counts, count: run * 3)
        }
        let seen = await Self.documents(dashboard)
        #expect(seen.compactMap { $0["seq"] as? Int } == Array(1...9), "\(seen.map { $0["seq"] ?? "?" })")
        #expect(seen.allSatisfy { $0["replayed"] as? Bool == false })
        // Each run starts on a window boundary (start_time) and ends early: whole, whole, partial.
        #expect(
            seen.map { $0["partial"] as? Bool ?? false } == [
                false, false, true, false, false, true, false, false, true,
            ])
    }

    @Test(
        "SIGTERM in the middle of a run, then SIGKILL: no window the agent had recorded as acknowledged comes back; every window arrives"
    )
    func termThenKill() async throws {
        defer { dashboard.stop() }
        let config = try Self.config(directory, port: broker.port, realtime: true, windowLength: 1)
        let ring = directory.file("state/buffer.ring")
        let log = directory.file("agent.log")

        // 1. SIGTERM while windows flow: the partial window goes out, everything is acknowledged and recorded.
        let first = try BackgroundAgent.start(config: config, log: log)
        _ = try await dashboard.wait(for: Self.counts, count: 4)
        kill(first.processIdentifier, SIGTERM)
        waitForExit(first, timeout: 60)
        #expect(!first.isRunning && first.terminationStatus == 0, "still running after 60 s")
        let pendingAfterTerm = try RingFile.scan(path: ring)
        #expect(pendingAfterTerm == [], "pending after SIGTERM:\n\((try? Self.inspect(ring)) ?? "")")
        let afterTerm = try await Self.documentsAfterShutdown(dashboard)
        #expect(afterTerm.last?["partial"] as? Bool == true)
        #expect(afterTerm.first?["partial"] as? Bool == true)  // it started in the middle of a second

        // 2. Restarted, killed without warning once more windows are out.
        let second = try BackgroundAgent.start(config: config, log: log)
        _ = try await dashboard.wait(for: Self.counts, count: afterTerm.count + 3)
        BackgroundAgent.kill(second)
        let pendingAfterKill = Set(try RingFile.scan(path: ring))
        let beforeThird = await Self.documents(dashboard).count

        // 3. Restarted again: only what was still pending may come back, marked replayed.
        let third = try BackgroundAgent.start(config: config, log: log)
        _ = try await dashboard.wait(for: Self.counts, count: beforeThird + pendingAfterKill.count + 2)
        kill(third.processIdentifier, SIGTERM)
        waitForExit(third, timeout: 60)
        #expect(!third.isRunning && third.terminationStatus == 0, "still running after 60 s")
        #expect(try RingFile.scan(path: ring) == [])

        let seen = try await Self.documentsAfterShutdown(dashboard)
        let live = seen.filter { $0["replayed"] as? Bool == false }.compactMap { $0["seq"] as? Int }
        let replayed = seen.filter { $0["replayed"] as? Bool == true }.compactMap {
            ($0["seq"] as? Int).map(UInt64.init)
        }
        let agentLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(
            Set(replayed).isSubset(of: pendingAfterKill),
            "replayed \(replayed), pending after the kill \(pendingAfterKill.sorted())\n\(agentLog)")
        #expect(live.count == Set(live).count, "a window sent live twice: \(live)")
        // Every number arrives, but the window that was open at the kill (never finished, never sent).
        let all = Set(live.map(UInt64.init) + replayed)
        let missing = Set(1...(all.max() ?? 0)).subtracting(all)
        #expect(missing.count <= 1, "missing \(missing.sorted()); seen \(seen.map { $0["seq"] ?? "?" })")
    }

    @Test("a sequence file lost between runs: the next run goes on above the numbers the buffer has held, and says so")
    func lostSequenceFile() async throws {
        defer { dashboard.stop() }
        let config = try Self.config(directory, port: broker.port, realtime: false, windowLength: 20)
        let first = try ProcessRunner.run(
            TestPaths.executable, ["run", "--models", TestPaths.models, "--config", config])
        #expect(first.status == 0, "\(first.standardError)")
        try FileManager.default.removeItem(atPath: directory.file("state/sequence"))
        let second = try ProcessRunner.run(
            TestPaths.executable, ["run", "--models", TestPaths.models, "--config", config])
        #expect(second.status == 0, "\(second.standardError)")
        #expect(
            second.standardError.contains("below the offline buffer's 3; windows go on from 4"),
            "\(second.standardError)")
        #expect(!second.standardError.contains("could not be buffered"), "\(second.standardError)")
        let seen = try await dashboard.wait(for: Self.counts, count: 6)
        let sequences = seen.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["seq"] as? Int
        }
        #expect(sequences == Array(1...6))
    }
}
