import EdgeCensusSystemd
public import Logging

/// A swift-log logger for a test: each message becomes the line the agent would
/// write (`edgecensus: warning: …`, without a journal priority) and goes to `record`.
public func recordingLogger(_ record: @escaping @Sendable (String) -> Void) -> Logger {
    Logger(label: "edgecensus.test") { _ in RecordingLogHandler(record: record) }
}

struct RecordingLogHandler: LogHandler {
    let record: @Sendable (String) -> Void
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        record(JournalLineLogHandler.line(program: "edgecensus", level: event.level, message: "\(event.message)", priorityPrefix: false))
    }
}
