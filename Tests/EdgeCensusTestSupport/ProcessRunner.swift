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
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Double = 600
    ) throws -> ProcessResult {
        let child = try Child(executable, arguments, environment: environment)
        waitForExit(child.process, timeout: timeout)
        let timedOut = child.process.isRunning
        if timedOut {
            kill(child.process.processIdentifier, SIGKILL)
            waitForExit(child.process, timeout: 10)
        }
        return try child.result(timedOut: timedOut)
    }

    /// `run`, waiting without blocking a thread: for async tests whose child runs
    /// long (a whole agent run, a fuzz campaign). A blocked thread is one of the
    /// two the cooperative pool has on this machine; with both blocked, every other
    /// test's subscribers stop receiving.
    public static func runWithoutBlocking(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Double = 600
    ) async throws -> ProcessResult {
        let child = try Child(executable, arguments, environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        while child.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let timedOut = child.process.isRunning
        if timedOut {
            kill(child.process.processIdentifier, SIGKILL)
            while child.process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        }
        return try child.result(timedOut: timedOut)
    }

    /// A started child whose output goes to files.
    private struct Child {
        let process = Process()
        let scratch: TemporaryDirectory
        let output: FileHandle
        let error: FileHandle

        init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
            scratch = try TemporaryDirectory()
            try writeFile(scratch.file("stdout"), Data())
            try writeFile(scratch.file("stderr"), Data())
            output = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("stdout")))
            error = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("stderr")))
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardOutput = output
            process.standardError = error
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// What it printed and how it ended (call once it has ended).
        func result(timedOut: Bool) throws -> ProcessResult {
            try output.close()
            try error.close()
            return ProcessResult(
                status: process.terminationStatus,
                standardOutput: (try? String(contentsOfFile: scratch.file("stdout"), encoding: .utf8)) ?? "",
                standardError: (try? String(contentsOfFile: scratch.file("stderr"), encoding: .utf8)) ?? "",
                signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut)
        }
    }
}

/// Waits for a child to end by polling `isRunning`: `waitUntilExit` spins a run
/// loop, which can hang when called from an async test.
public func waitForExit(_ process: Process, timeout: Double = 600) {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(5_000) }
}
