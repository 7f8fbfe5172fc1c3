public import Foundation

/// `edgecensus run` in the background, as the agent a test talks to over MQTT.
public enum BackgroundAgent {
    /// Starts the built agent on `config` with the repository's models. Standard
    /// output is discarded; standard error is appended to `log` when given.
    public static func start(config: String, log: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        process.arguments = ["run", "--models", TestPaths.models, "--config", config]
        process.standardOutput = FileHandle.nullDevice
        if let log {
            if !FileManager.default.fileExists(atPath: log) { try writeFile(log, Data()) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            handle.seekToEndOfFile()
            process.standardError = handle
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Kills the agent at once (SIGKILL, as a crash or power cut would) and waits for it.
    public static func kill(_ process: Process) {
        Foundation.kill(process.processIdentifier, SIGKILL)
        waitForExit(process, timeout: 10)
    }
}
