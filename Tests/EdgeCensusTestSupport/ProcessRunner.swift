public import Foundation

/// What a finished command printed, and its exit status.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
    /// True when the process ended by a signal (`status` is then the signal's number).
    public var signalled = false
    /// True when it was killed for running past its timeout.
    public var timedOut = false
}

/// Runs a command to completion. Output goes through temporary files rather than
/// pipes, so a chatty child can never block on a full pipe.
public enum ProcessRunner {
    /// `timeout`: seconds to wait before the command is killed (SIGKILL) and reported as status 137.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: Double = 600) throws -> ProcessResult {
        let scratch = try TemporaryDirectory()
        let outputPath = scratch.file("stdout"), errorPath = scratch.file("stderr")
        try writeFile(outputPath, Data())
        try writeFile(errorPath, Data())
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        waitForExit(process, timeout: timeout)
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            waitForExit(process, timeout: 10)
        }
        try output.close()
        try error.close()
        return ProcessResult(status: process.terminationStatus,
                             standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
                             standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
                             signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut)
    }
}

extension ProcessRunner {
    /// `run`, waiting without blocking a thread: for async tests whose child runs
    /// long (a whole agent run, a fuzz campaign). A blocked thread is one of the
    /// two the cooperative pool has on this machine; with both blocked, every other
    /// test's subscribers stop receiving.
    public static func runWithoutBlocking(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                                          timeout: Double = 600) async throws -> ProcessResult {
        let scratch = try TemporaryDirectory()
        let outputPath = scratch.file("stdout"), errorPath = scratch.file("stderr")
        try writeFile(outputPath, Data())
        try writeFile(errorPath, Data())
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        }
        try output.close()
        try error.close()
        return ProcessResult(status: process.terminationStatus,
                             standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
                             standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
                             signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut)
    }
}

/// Waits for a child to end by polling `isRunning`: `waitUntilExit` spins a run
/// loop, which can hang when called from an async test.
public func waitForExit(_ process: Process, timeout: Double = 600) {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(5_000) }
}
