import EdgeCensusLogging
import Foundation
import Synchronization
import Testing

@Suite("Log lines: the level in the text, and the journal's priority when standard error is the journal")
struct AgentLoggerTests {
    @Test(
        "each level's line, as read in a terminal and as journald takes it",
        arguments: [
            (LogLevel.debug, "edgecensus: debug: m", "<7>edgecensus: debug: m"),
            (.info, "edgecensus: m", "<6>edgecensus: m"),
            (.warning, "edgecensus: warning: m", "<4>edgecensus: warning: m"),
            (.error, "edgecensus: error: m", "<3>edgecensus: error: m"),
        ])
    func lines(level: LogLevel, plain: String, journal: String) {
        #expect(AgentLogger.line(program: "edgecensus", level: level, message: "m", priorityPrefix: false) == plain)
        #expect(AgentLogger.line(program: "edgecensus", level: level, message: "m", priorityPrefix: true) == journal)
    }

    @Test("a message with line breaks stays one line (one journal entry)")
    func oneLine() {
        #expect(
            AgentLogger.line(program: "edgecensus", level: .warning, message: "a\nb", priorityPrefix: false)
                == "edgecensus: warning: a b")
    }

    @Test("lines below the log's level are dropped; the rest reach the sink with their level")
    func levels() {
        let seen = Mutex<[String]>([])
        let logger = AgentLogger(level: .info) { level, message in
            seen.withLock { $0.append("\(level.rawValue) \(message)") }
        }
        logger.debug("d")
        logger.info("i")
        logger.warning("w")
        logger.error("e")
        #expect(seen.withLock { $0 } == ["6 i", "4 w", "3 e"])
    }

    @Test("standard error is the journal only when JOURNAL_STREAM names its device and inode")
    func journalDetection() throws {
        var status = stat()
        #expect(fstat(STDERR_FILENO, &status) == 0)
        #expect(
            AgentLogger.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]))
        #expect(
            !AgentLogger.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]
            ))
        #expect(!AgentLogger.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "nonsense"]))
        #expect(!AgentLogger.standardErrorIsJournal(environment: [:]))
    }
}
