import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus fleet`: the operator's view over a broker with several real agents,
/// one of them gone (its will said `offline`), one stopped cleanly, and one at
/// another configuration version that refuses a change made for version 0.
@Suite("edgecensus fleet", .tags(.broker), .serialized)
struct FleetCommandTests {
    let broker: MosquittoBroker
    let directory: TemporaryDirectory

    init() throws {
        broker = try MosquittoBroker()
        directory = try TemporaryDirectory()
    }

    /// An agent on a camera that is not there (empty 2 s windows go on, no inference), health every second.
    func startAgent(_ device: String) throws -> Process {
        let config = directory.file("\(device).yaml")
        try writeFile(
            config,
            Data(
                """
                device: {id: \(device)}
                source: {kind: camera, device: /dev/edgecensus-absent}
                windows: {length: 2}
                state: {directory: \(directory.file("state-\(device)"))}
                mqtt: {host: 127.0.0.1, port: \(broker.port), health_interval: 1, discovery: false}
                """.utf8))
        return try BackgroundAgent.start(config: config)
    }

    /// Generous bounds for a loaded machine: the survey ends 2 s after the last retained
    /// message, answers are awaited 20 s (the silent devices make each change take that long).
    func fleet(_ arguments: [String]) throws -> ProcessResult {
        let bounds =
            arguments.contains("status") ? ["--quiet", "2", "--timeout", "60"] : ["--quiet", "2", "--timeout", "20"]
        return try ProcessRunner.run(
            TestPaths.executable, ["fleet"] + arguments + bounds + ["--mqtt", "127.0.0.1:\(broker.port)"])
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    @Test(
        "status lists every device with its state; config set reports applied, refused and silent devices and exits 1; a list file of answering devices exits 0"
    )
    func statusAndBulkChange() async throws {
        let devices = ["shop-1", "shop-2", "shop-3", "shop-4", "shop-5"]
        let watcher = try await Subscriber(
            port: broker.port, topics: ["edgecensus/+/health", "edgecensus/+/state", "edgecensus/+/status"])
        defer { watcher.stop() }
        var agents: [String: Process] = [:]
        for device in devices { agents[device] = try startAgent(device) }
        defer { for agent in agents.values { BackgroundAgent.kill(agent) } }
        // Every agent up: a window and a health report from each.
        for device in devices {
            _ = try await watcher.wait(for: "edgecensus/\(device)/health", seconds: 120)
            _ = try await watcher.wait(for: "edgecensus/\(device)/state", seconds: 120)
        }
        // shop-4 crashes (the broker sends its will), shop-5 is stopped cleanly.
        BackgroundAgent.kill(agents.removeValue(forKey: "shop-4")!)
        let stopping = agents.removeValue(forKey: "shop-5")!
        stopping.terminate()
        waitForExit(stopping, timeout: 60)
        for (device, status) in [("shop-4", "offline"), ("shop-5", "stopped")] {
            let deadline = Date().addingTimeInterval(30)
            while await watcher.inbox.on("edgecensus/\(device)/status").last?.text != status, Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // shop-2 moves to configuration version 1 on its own.
        let single = try ProcessRunner.run(
            TestPaths.executable,
            [
                "config", "set", "windows.k_anonymity=2", "--device", "shop-2",
                "--mqtt", "127.0.0.1:\(broker.port)",
            ])
        #expect(single.status == 0, "\(single.standardOutput) \(single.standardError)")

        let change = try fleet([
            "config", "set", "throttle.max_rate_hz=0.5", "--devices", "shop-*", "--expect-version", "0",
        ])
        #expect(change.status == 1, "\(change.standardOutput) \(change.standardError)")
        let lines = change.standardOutput.split(separator: "\n").map(String.init)
        func line(_ device: String) -> String { lines.first { $0.hasPrefix(device + " ") } ?? "" }
        #expect(line("shop-1").contains("applied") && line("shop-1").contains("v1"), "\(change.standardOutput)")
        #expect(line("shop-3").contains("applied") && line("shop-3").contains("v1"), "\(change.standardOutput)")
        #expect(
            line("shop-2").contains("refused") && line("shop-2").contains("config_version 0 is stale"),
            "\(change.standardOutput)")
        #expect(
            line("shop-4").contains("no answer") && line("shop-5").contains("no answer"), "\(change.standardOutput)")
        #expect(lines.last == "5 device(s): 2 applied, 1 refused, 2 did not answer", "\(change.standardOutput)")

        // Status once the health reports after the change are in: each device as it is.
        try await Task.sleep(for: .seconds(2))
        let status = try fleet(["status", "--json"])
        #expect(status.status == 0, "\(status.standardError)")
        let found = (Self.json(status.standardOutput)["devices"] as? [[String: Any]]) ?? []
        let byDevice = Dictionary(
            uniqueKeysWithValues: found.compactMap { item in (item["device"] as? String).map { ($0, item) } })
        #expect(found.map { $0["device"] as? String } == devices)
        #expect(
            byDevice.mapValues { $0["status"] as? String } == [
                "shop-1": "online", "shop-2": "online", "shop-3": "online",
                "shop-4": "offline", "shop-5": "stopped",
            ])
        #expect(
            byDevice.mapValues { $0["config_version"] as? Int } == [
                "shop-1": 1, "shop-2": 1, "shop-3": 1, "shop-4": 0, "shop-5": 0,
            ])
        for device in devices {
            let item = byDevice[device] ?? [:]
            #expect(item["version"] as? String == "0.1.0", "\(device)")
            #expect(item["people_last_hour"] as? Int == 0, "\(device): empty windows")
            #expect(item["buffered_windows"] is Int && item["cpu_percent"] is Double, "\(device)")
            #expect((item["last_window_age_seconds"] as? Double).map { $0 >= 0 } == true, "\(device)")
        }
        let table = try fleet(["status", "--devices", "shop-[45]"])
        #expect(table.status == 0)
        #expect(
            table.standardOutput.split(separator: "\n").last == "2 device(s): 1 offline, 1 stopped",
            "\(table.standardOutput)")

        // A list file: the answering devices only, exit 0; a device nobody runs: exit 1.
        try writeFile(directory.file("running.txt"), Data("shop-1\nshop-3 # back room\n".utf8))
        let listed = try fleet([
            "config", "set", "windows.k_anonymity=3", "--devices-from", directory.file("running.txt"),
        ])
        #expect(listed.status == 0, "\(listed.standardOutput) \(listed.standardError)")
        #expect(
            listed.standardOutput.contains("2 device(s): 2 applied, 0 refused, 0 did not answer"),
            "\(listed.standardOutput)")
        try writeFile(directory.file("ghost.txt"), Data("shop-1\nghost\n".utf8))
        let ghost = try fleet(["config", "set", "windows.k_anonymity=3", "--devices-from", directory.file("ghost.txt")])
        #expect(
            ghost.status == 1 && ghost.standardOutput.contains("ghost")
                && ghost.standardOutput.contains("1 did not answer"),
            "\(ghost.standardOutput)")
        let nobody = try fleet(["config", "set", "windows.k_anonymity=3", "--devices", "hall-*"])
        #expect(nobody.status == 2 && nobody.standardError.contains("nothing sent"), "\(nobody.standardError)")
    }

    @Test("status with no broker exits 2 and says where it looked; with no device exits 1")
    func nothingThere() throws {
        let empty = try fleet(["status"])
        #expect(
            empty.status == 1 && empty.standardError.contains("no device found under 'edgecensus/'"),
            "\(empty.standardError)")
        let port = try MosquittoBroker.freePort()
        let absent = try ProcessRunner.run(
            TestPaths.executable, ["fleet", "status", "--mqtt", "127.0.0.1:\(port)", "--timeout", "1"])
        #expect(absent.status == 2 && absent.standardError.contains("127.0.0.1:\(port)"), "\(absent.standardError)")
    }
}
