public import EdgeCensusLogging

/// A log for a test: each message becomes the line the agent would write
/// (`edgecensus: warning: …`, without a journal priority) and goes to `record`.
public func recordingLogger(_ record: @escaping @Sendable (String) -> Void) -> AgentLogger {
    AgentLogger(level: .debug) { level, message in
        record(AgentLogger.line(program: "edgecensus", level: level, message: message, priorityPrefix: false))
    }
}
