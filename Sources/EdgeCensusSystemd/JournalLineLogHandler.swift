public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// swift-log's handler for the agent: one line per message on standard error, as
/// `edgecensus: warning: the broker …`. When standard error is the journal (systemd
/// names its stream in `$JOURNAL_STREAM`), each line starts with its syslog priority
/// (`<4>` for a warning), which journald takes as the entry's priority: then
/// `journalctl -p warning -u edgecensus` shows the warnings and errors only.
public struct JournalLineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let prefixesPriority: Bool
    private let program: String

    /// `toJournal`: whether standard error is the journal (found out from the
    /// environment and standard error when nil).
    public init(label: String, program: String = "edgecensus", toJournal: Bool? = nil,
                environment: [String: String] = [:]) {
        self.program = program
        prefixesPriority = toJournal ?? Self.standardErrorIsJournal(environment: environment)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Self.line(program: program, level: event.level, message: "\(event.message)",
                             priorityPrefix: prefixesPriority) + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { buffer in
            write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
        }
    }

    /// The text of one log line: `edgecensus: ` and, from warning up, the level's word.
    public static func line(program: String, level: Logger.Level, message: String, priorityPrefix: Bool) -> String {
        let word: String
        switch level {
        case .trace, .debug: word = "debug: "
        case .info, .notice: word = ""
        case .warning: word = "warning: "
        case .error, .critical: word = "error: "
        }
        let text = "\(program): \(word)\(message)".map { $0.isNewline ? " " : $0 }
        return (priorityPrefix ? "<\(priority(of: level))>" : "") + String(text)
    }

    /// syslog's priority for a swift-log level.
    public static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
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
