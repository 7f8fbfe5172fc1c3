public import Foundation

/// A real `mosquitto` broker for tests, on a free loopback port, with its own
/// configuration in a temporary directory. Stops when released.
public final class MosquittoBroker {
    public let port: Int
    private let directory: TemporaryDirectory
    private var process: Process?
    public let configuration: String

    /// Where Debian installs the broker.
    public static let executable = "/usr/sbin/mosquitto"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// `extraConfiguration`: lines added to the listener's configuration (TLS, passwords, ...).
    /// `persistent`: the broker keeps sessions and queued messages across its restarts
    /// (saved every second, since a SIGTERM may not reach it).
    public init(port: Int? = nil, extraConfiguration: String = "allow_anonymous true\n", persistent: Bool = false)
        throws
    {
        guard Self.isInstalled else { throw BrokerMissing() }
        directory = try TemporaryDirectory()
        self.port = try port ?? Self.freePort()
        configuration = directory.file("mosquitto.conf")
        let text = """
            per_listener_settings false
            # Started as root (CI), mosquitto would switch to the mosquitto user, which cannot
            # write its log or database here; as another user this line has no effect.
            user root
            \(persistent ? "persistence true\npersistence_location \(directory.path)/\nautosave_interval 1" : "persistence false")
            log_dest file \(directory.file("mosquitto.log"))
            listener \(self.port) 127.0.0.1
            \(extraConfiguration)
            """
        try writeFile(configuration, Data(text.utf8))
        try start()
    }

    deinit { stop() }

    public var log: String { (try? String(contentsOfFile: directory.file("mosquitto.log"), encoding: .utf8)) ?? "" }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-c", configuration]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Wait until it accepts connections (not a fixed sleep).
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.accepts(port: port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    /// Waits until a persistent broker has saved its state (sessions, queued messages)
    /// to disk after `moment`: its autosave runs every second, later on a loaded machine.
    public func waitUntilSaved(after moment: Date, timeout: TimeInterval = 30) throws {
        let database = directory.file("mosquitto.db")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let modified = (try? FileManager.default.attributesOfItem(atPath: database))?[.modificationDate] as? Date
            if let modified, modified > moment { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    /// Stops the broker and waits until its port is free. (Polls rather than
    /// `waitUntilExit`, which spins a run loop that async tests do not have.)
    public func stop() {
        guard let process else { return }
        self.process = nil
        // SIGTERM may be blocked in a child spawned by the test runner: SIGKILL if it lingers.
        Foundation.kill(process.processIdentifier, SIGTERM)
        if !Self.waitForExit(process, port: port, seconds: 0.5) {
            Foundation.kill(process.processIdentifier, SIGKILL)
            Self.waitForExit(process, port: port, seconds: 10)
        }
    }

    /// Kills the broker at once (SIGKILL), as a crash or power cut would.
    public func kill() {
        guard let process else { return }
        self.process = nil
        Foundation.kill(process.processIdentifier, SIGKILL)
        Self.waitForExit(process, port: port, seconds: 10)
    }

    /// Waits until Foundation has seen the process end (it reaps it: reaping it here
    /// as well would make Foundation's own wait fail) and its port is closed.
    @discardableResult
    static func waitForExit(_ process: Process, port: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !process.isRunning && !accepts(port: port) { return true }
            usleep(5_000)
        }
        return false
    }

    /// A port nothing listens on now: bound to 0, read back, released.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// The MQTT tests need the real broker; they fail, not skip, without it.
public struct BrokerMissing: Error, CustomStringConvertible {
    public var description: String {
        "\(MosquittoBroker.executable) is not installed: run the setup command in README.md (apt-get install mosquitto)"
    }
}
