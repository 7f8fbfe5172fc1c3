import EdgeCensusBuffer
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` while its state directory fails under it, the broker away:
/// counting goes on, every window arrives once the broker is back, the fault is
/// named (file and cause) in the log and in health, and no (epoch, seq) repeats.
@Suite("edgecensus run on a failing state directory", .tags(.broker, .root), .serialized)
struct RunWithFailingDiskTests {
    static let counts = "edgecensus/hall/counts"

    static func config(_ directory: TemporaryDirectory, state: String, port: Int, realtime: Bool = true) throws
        -> String
    {
        let path = directory.file("edgecensus.yaml")
        try writeFile(
            path,
            Data(
                """
                device: {id: hall}
                source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: \(realtime)}
                windows: {length: 1}
                state: {directory: \(state)}
                buffer: {size_mib: 1, replay_rate_hz: 100}
                mqtt: {host: 127.0.0.1, port: \(port), health_interval: 1, discovery: false}
                """.utf8))
        return path
    }

    /// A broker that keeps the dashboard's session while it is down, so that every
    /// window published after it comes back reaches the dashboard.
    static func brokerWithDashboard() async throws -> (broker: MosquittoBroker, dashboard: String) {
        let port = try MosquittoBroker.freePort()
        let dashboard = "dashboard-\(port)"
        let broker = try MosquittoBroker(port: port, persistent: true)
        try await Subscriber(
            port: port, topics: [counts, "edgecensus/hall/health"], id: dashboard, persistentSession: true
        ).stop()
        try broker.waitUntilSaved(after: Date())
        broker.kill()
        return (broker, dashboard)
    }

    static func documents(_ subscriber: Subscriber, _ topic: String = counts) async -> [[String: Any]] {
        await subscriber.inbox.on(topic).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
        }
    }

    static func wait(seconds: Double, until condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The numbers from 1 to the highest seen, each once, whatever the epoch.
    static func expectEveryWindowOnce(_ windows: [[String: Any]], upTo highest: Int, log: String) {
        let numbers = windows.compactMap { $0["seq"] as? Int }
        #expect(
            Set(numbers) == Set(1...max(highest, 1)),
            "missing \(Set(1...max(highest, 1)).subtracting(numbers).sorted()); the agent said:\n\(log)")
        let keys = windows.map { "\($0["seq_epoch"] as? String ?? "?")/\($0["seq"] as? Int ?? 0)" }
        #expect(keys.count == Set(keys).count, "a window came twice: \(keys)")
    }

    @Test(
        "the state directory deleted while the broker is away: it is made again with every buffered window, counting never stops, and all windows arrive once"
    )
    func stateDirectoryDeleted() async throws {
        let (broker, dashboard) = try await Self.brokerWithDashboard()
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        let log = directory.file("agent.log")
        let agent = try BackgroundAgent.start(
            config: try Self.config(directory, state: state, port: broker.port), log: log)
        defer { BackgroundAgent.kill(agent) }
        let ring = state + "/buffer.ring"
        var before: [UInt64] = []
        try await Self.wait(seconds: 60) {
            before = (try? RingFile.scan(path: ring)) ?? []; return before.count >= 3
        }
        try FileManager.default.removeItem(atPath: state)
        var after: [UInt64] = []
        try await Self.wait(seconds: 60) {
            after = (try? RingFile.scan(path: ring)) ?? []; return after.count >= before.count + 3
        }
        #expect(agent.isRunning, "the agent stopped: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(
            Set(after).isSuperset(of: before),
            "the windows buffered before the deletion are not in the new ring: \(before) → \(after)")
        try broker.start()
        let watcher = try await Subscriber(
            port: broker.port, topics: [Self.counts], id: dashboard, persistentSession: true)
        defer { watcher.stop() }
        let highest = Int(after.last ?? 0)
        try await Self.wait(seconds: 60) {
            Set(await Self.documents(watcher).compactMap { $0["seq"] as? Int }).isSuperset(of: 1...highest)
        }
        let windows = await Self.documents(watcher)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        Self.expectEveryWindowOnce(windows.filter { ($0["seq"] as? Int ?? 0) <= highest }, upTo: highest, log: text)
        // The folder was made again at once: one numbering throughout, and the file says where it is.
        #expect(
            Set(windows.compactMap { $0["seq_epoch"] as? String }).count == 1,
            "\(windows.map { $0["seq_epoch"] ?? "?" })")
        let saved = (try? String(contentsOfFile: state + "/sequence", encoding: .utf8)) ?? ""
        #expect(saved.hasSuffix(" \(windows.first?["seq_epoch"] as? String ?? "?")\n"), "sequence file: \(saved)")
        #expect(!text.contains("Error Domain"), "\(text)")
    }

    @Test(
        "a full disk while the broker is away: counting goes on, the log and health name the file and ENOSPC, all windows arrive once (those after the fault in a new epoch), and freeing the disk clears it"
    )
    func fullDisk() async throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 2 * 1_048_576) else { return }
        let (broker, dashboard) = try await Self.brokerWithDashboard()
        let directory = try TemporaryDirectory()
        let state = disk.file("state")
        let log = directory.file("agent.log")
        let agent = try BackgroundAgent.start(
            config: try Self.config(directory, state: state, port: broker.port), log: log)
        defer { BackgroundAgent.kill(agent) }
        let ring = state + "/buffer.ring"
        var before: [UInt64] = []
        try await Self.wait(seconds: 60) {
            before = (try? RingFile.scan(path: ring)) ?? []; return before.count >= 2
        }
        disk.fill()
        let agentLog = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        try await Self.wait(seconds: 60) { agentLog().contains("ENOSPC") }
        #expect(agentLog().contains("state directory: cannot write \(state)/sequence.tmp: ENOSPC"), "\(agentLog())")
        var during: [UInt64] = []
        try await Self.wait(seconds: 60) {
            during = (try? RingFile.scan(path: ring)) ?? []; return during.count >= before.count + 3
        }
        #expect(agent.isRunning, "the agent stopped: \(agentLog())")
        try broker.start()
        let watcher = try await Subscriber(
            port: broker.port, topics: [Self.counts, "edgecensus/hall/health"], id: dashboard, persistentSession: true)
        defer { watcher.stop() }
        let highest = Int(during.last ?? 0)
        try await Self.wait(seconds: 60) {
            Set(await Self.documents(watcher).compactMap { $0["seq"] as? Int }).isSuperset(of: 1...highest)
        }
        let windows = await Self.documents(watcher).filter { ($0["seq"] as? Int ?? 0) <= highest }
        Self.expectEveryWindowOnce(windows, upTo: highest, log: agentLog())
        #expect(
            Set(windows.compactMap { $0["seq_epoch"] as? String }).count == 2, "one epoch before the fault, one after")
        try await Self.wait(seconds: 30) {
            await Self.documents(watcher, "edgecensus/hall/health").contains {
                ($0["storage_faults"] as? [[String: Any]])?.isEmpty == false
            }
        }
        let faults = await Self.documents(watcher, "edgecensus/hall/health").compactMap {
            $0["storage_faults"] as? [[String: Any]]
        }.flatMap { $0 }
        #expect(
            faults.contains { $0["cause"] as? String == "ENOSPC" && ($0["file"] as? String)?.hasPrefix(state) == true },
            "\(faults)")
        disk.free()
        try await Self.wait(seconds: 60) { agentLog().contains("is written again") }
        #expect(
            agentLog().contains("the window numbers file \(state)/sequence.tmp is written again (after ENOSPC)"),
            "\(agentLog())")
    }

    @Test(
        "a 64 KiB filesystem, too small for the offline buffer: the agent starts, publishes every window, and health names the ring file and ENOSPC"
    )
    func tinyFilesystem() async throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 64 * 1024) else { return }
        let broker = try MosquittoBroker()
        let watcher = try await Subscriber(port: broker.port, topics: [Self.counts, "edgecensus/hall/health"])
        defer { watcher.stop() }
        let directory = try TemporaryDirectory()
        let state = disk.file("state")
        let result = try await ProcessRunner.runWithoutBlocking(
            TestPaths.executable,
            [
                "run", "--models", TestPaths.models, "--config",
                try Self.config(directory, state: state, port: broker.port),
            ],
            timeout: 300)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardError.contains("cannot preallocate 1048576 bytes for \(state)/buffer.ring: ENOSPC"),
            "\(result.standardError)")
        // Every window the agent logged, as the dashboard receives them (it may still be reading).
        let logged = result.standardError.split(separator: "\n").filter { $0.hasPrefix("edgecensus: window ") }.count
        try await Self.wait(seconds: 60) { await Self.documents(watcher).count >= logged }
        let windows = await Self.documents(watcher)
        #expect(
            windows.count >= 20,
            "\(windows.count) windows; the agent said:\n\(result.standardError)\nthe broker said:\n\(broker.log)")
        Self.expectEveryWindowOnce(
            windows, upTo: windows.compactMap { $0["seq"] as? Int }.max() ?? 0, log: result.standardError)
        let faults = await Self.documents(watcher, "edgecensus/hall/health").compactMap {
            $0["storage_faults"] as? [[String: Any]]
        }.flatMap { $0 }
        #expect(
            faults.contains {
                $0["role"] as? String == "offline buffer" && $0["cause"] as? String == "ENOSPC"
                    && $0["file"] as? String == state + "/buffer.ring"
            },
            "\(faults)")
    }
}
