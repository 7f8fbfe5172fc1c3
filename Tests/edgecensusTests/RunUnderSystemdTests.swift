import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` as systemd runs it with Type=notify and WatchdogSec=: the test
/// holds the notification socket, as systemd would.
@Suite("edgecensus run under systemd's notification protocol", .tags(.broker), .serialized)
struct RunUnderSystemdTests {
    let broker: MosquittoBroker
    let directory: TemporaryDirectory

    init() throws {
        broker = try MosquittoBroker()
        directory = try TemporaryDirectory()
    }

    /// A camera that is not there, retried for ever: the agent stays up, with 2 s windows.
    func configFile() throws -> String {
        let path = directory.file("edgecensus.yaml")
        let text = """
            device: {id: hall}
            source: {kind: camera, device: /dev/edgecensus-absent}
            windows: {length: 2}
            state: {directory: \(directory.file("state"))}
            mqtt: {host: 127.0.0.1, port: \(broker.port), discovery: false}
            """
        try writeFile(path, Data(text.utf8))
        return path
    }

    @Test(
        "READY=1 with a status once the models are loaded and the source open, WATCHDOG=1 while the loops go round, a status per window, STOPPING=1 on SIGTERM"
    )
    func lifecycle() throws {
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        process.arguments = ["run", "--models", TestPaths.models, "--config", try configFile()]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = listener.path
        environment["WATCHDOG_USEC"] = "1000000"  // pings every 0.5 s
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { BackgroundAgent.kill(process) } }

        let ready = listener.wait(seconds: 60) { $0.hasPrefix("READY=1") }
        #expect(ready?.contains("STATUS=camera /dev/edgecensus-absent") == true, "\(ready ?? "no READY=1")")
        #expect(ready?.contains("counting in windows of 2 s") == true)
        let window = listener.wait(seconds: 60) { $0.hasPrefix("STATUS=") && $0.contains("window") }
        #expect(
            window?.contains("people; broker connected; 0 buffered") == true, "\(window ?? "no status for a window")")
        // Pings only after READY=1, and several of them: the loops go round.
        let messages = listener.messages.map(\.message)
        let readyIndex = messages.firstIndex { $0.hasPrefix("READY=1") } ?? messages.count
        #expect(!messages[..<readyIndex].contains("WATCHDOG=1"), "no ping before READY=1: \(messages)")
        #expect(messages[readyIndex...].filter { $0 == "WATCHDOG=1" }.count >= 2, "\(messages)")

        kill(process.processIdentifier, SIGTERM)
        let stopping = listener.wait(seconds: 30) { $0.hasPrefix("STOPPING=1") }
        #expect(stopping != nil, "\(listener.messages.map(\.message))")
        waitForExit(process, timeout: 30)
        #expect(
            !process.isRunning && process.terminationReason == .exit && process.terminationStatus == 0, "still running")
    }

    @Test(
        "when standard error is the journal (JOURNAL_STREAM names it), every line starts with its priority: <6> information, <4> a warning"
    )
    func journalPriorities() throws {
        let stderrPath = directory.file("journal.log")
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        var status = stat()
        #expect(fstat(handle.fileDescriptor, &status) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        process.arguments = ["run", "--models", TestPaths.models, "--config", try configFile()]
        var environment = ProcessInfo.processInfo.environment
        environment["JOURNAL_STREAM"] = "\(status.st_dev):\(status.st_ino)"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { BackgroundAgent.kill(process) } }
        let deadline = Date().addingTimeInterval(60)
        var lines: [String] = []
        while Date() < deadline {
            lines = String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
                .split(separator: "\n").map(String.init)
            if lines.contains(where: { $0.contains("retrying") }), lines.contains(where: { $0.contains("window 1:") }) {
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(process.processIdentifier, SIGTERM)
        waitForExit(process, timeout: 30)
        #expect(
            lines.contains { $0.hasPrefix("<6>edgecensus: counting from camera /dev/edgecensus-absent") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<4>edgecensus: warning: ") && $0.contains("retrying") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<6>edgecensus: window 1:") }, "\(lines)")
        #expect(
            lines.allSatisfy { $0.range(of: #"^<[2-7]>edgecensus: "#, options: .regularExpression) != nil }, "\(lines)")
    }

    @Test("without NOTIFY_SOCKET (the command line) the agent runs as before and sends nothing")
    func outsideSystemd() throws {
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let output = directory.file("windows.jsonl")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        let config = directory.file("sample.yaml")
        try writeFile(
            config,
            Data(
                """
                device: {id: sample}
                source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: false, start_time: "2026-01-01T09:00:00Z"}
                windows: {length: 20}
                state: {directory: \(directory.file("sample-state"))}
                """.utf8))
        process.arguments = ["run", "--models", TestPaths.models, "--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        waitForExit(process, timeout: 120)
        #expect(!process.isRunning && process.terminationStatus == 0, "still running after 120 s")
        #expect(listener.messages.isEmpty)
        #expect(
            String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
                .split(separator: "\n").count == 3)
    }
}
