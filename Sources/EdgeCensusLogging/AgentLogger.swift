#if canImport(Glibc)
    import Glibc
#endif

/// How serious a log line is; the raw value is its syslog priority.
public enum LogLevel: Int, Sendable, Comparable {
    case error = 3, warning = 4, info = 6, debug = 7

    /// Less serious first: debug < info < warning < error.
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue > b.rawValue }

    /// The word a line of this level starts with (none for information).
    var word: String {
        switch self {
        case .error: "error: "
        case .warning: "warning: "
        case .info: ""
        case .debug: "debug: "
        }
    }
}

/// The agent's log: one line per message, `edgecensus: warning: the broker …`, on
/// standard error. When standard error is the journal (systemd names its stream in
/// `$JOURNAL_STREAM`), each line starts with its syslog priority (`<4>` for a
/// warning), which journald takes as the entry's priority: then `journalctl -p
/// warning -u edgecensus` shows the warnings and errors only.
///
/// Written by hand rather than with swift-log: the swift-log in the package mirror
/// (1.16.2, like swift-service-lifecycle 2.13.0, which needs it) declares Swift tools
/// 6.2, and Debian 13's swiftlang 6.0.3, which builds the Debian 13 and arm64
/// packages, refuses it.
public struct AgentLogger: Sendable {
    private let sink: @Sendable (LogLevel, String) -> Void
    /// Lines below this level are dropped.
    public var level: LogLevel

    /// A log whose lines go to `sink` (the tests collect them).
    public init(level: LogLevel = .info, sink: @escaping @Sendable (LogLevel, String) -> Void) {
        self.level = level
        self.sink = sink
    }

    public func debug(_ message: String) { log(.debug, message) }
    public func info(_ message: String) { log(.info, message) }
    public func warning(_ message: String) { log(.warning, message) }
    public func error(_ message: String) { log(.error, message) }

    public func log(_ messageLevel: LogLevel, _ message: String) {
        guard messageLevel >= level else { return }
        sink(messageLevel, message)
    }

    /// Says nothing (benchmarks).
    public static let silent = AgentLogger { _, _ in }

    /// Standard error, with journal priorities when `environment`'s `$JOURNAL_STREAM`
    /// names it.
    public static func standardError(environment: [String: String] = [:], program: String = "edgecensus") -> AgentLogger
    {
        let toJournal = standardErrorIsJournal(environment: environment)
        return AgentLogger { level, message in
            let text = line(program: program, level: level, message: message, priorityPrefix: toJournal) + "\n"
            _ = text.utf8CString.withUnsafeBufferPointer { buffer in
                write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
            }
        }
    }

    /// The text of one log line: `edgecensus: `, the level's word from warning up, the
    /// message on one line, and the priority first when it goes to the journal.
    public static func line(program: String, level: LogLevel, message: String, priorityPrefix: Bool) -> String {
        let text = String("\(program): \(level.word)\(message)".map { $0.isNewline ? " " : $0 })
        return (priorityPrefix ? "<\(level.rawValue)>" : "") + text
    }

    /// True when `$JOURNAL_STREAM` (`device:inode`) names the file standard error is.
    public static func standardErrorIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
