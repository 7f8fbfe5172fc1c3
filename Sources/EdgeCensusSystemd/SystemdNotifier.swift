#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd how the service is doing, with the `sd_notify` protocol: one
/// datagram of `KEY=value` lines to the socket named by `$NOTIFY_SOCKET` (a path, or
/// an abstract name written with a leading `@`). Written by hand rather than linking
/// libsystemd: the protocol is one `sendto`, and the package then needs no new library.
/// Outside systemd (no `$NOTIFY_SOCKET`: the command line, the tests) every call does
/// nothing.
public final class SystemdNotifier: Sendable {
    /// Where the messages go, or nil when the process is not run by systemd as Type=notify.
    public let socketPath: String?
    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when systemd watches
    /// this process (`$WATCHDOG_PID` unset or ours); nil otherwise.
    public let watchdogInterval: Double?
    /// The watchdog's limit (`WatchdogSec=`), in seconds, or nil.
    public let watchdogTimeout: Double?

    /// `processID`: this process's (the default), to compare with `$WATCHDOG_PID`.
    public init(environment: [String: String], processID: Int32? = nil) {
        let processID = processID ?? getpid()
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        let watchedHere = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
        if path != nil, watchedHere, let text = environment["WATCHDOG_USEC"], let microseconds = Double(text),
            microseconds > 0
        {
            watchdogTimeout = microseconds / 1_000_000
            watchdogInterval = microseconds / 2_000_000
        } else {
            watchdogTimeout = nil
            watchdogInterval = nil
        }
    }

    /// Startup is over: the models are loaded and the source is open.
    public func ready(status: String) { send("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// One line on what the agent is doing (`systemctl status` shows it).
    public func status(_ text: String) { send("STATUS=\(Self.oneLine(text))") }

    /// The agent's loops are alive.
    public func watchdog() { send("WATCHDOG=1") }

    /// Shutdown has begun.
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(Self.oneLine(status))") }

    /// Sends one message; false when there is nowhere to send it or the send failed
    /// (systemd gone: nothing the agent could do about it).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: name)
        }
        // An abstract name is exactly its bytes; a path ends with its NUL.
        let length = MemoryLayout<sa_family_t>.size + name.count + (abstract ? 0 : 1)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, socklen_t(length))
            }
        }
        return sent == bytes.count
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
