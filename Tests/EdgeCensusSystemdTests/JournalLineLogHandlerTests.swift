import EdgeCensusSystemd
import EdgeCensusTestSupport
import Foundation
import Logging
import Testing

@Suite("Log lines: the level in the text, and the journal's priority when standard error is the journal")
struct JournalLineLogHandlerTests {
    @Test("each level's line, as read in a terminal and as journald takes it", arguments: [
        (Logger.Level.debug, "edgecensus: debug: m", "<7>edgecensus: debug: m"),
        (.info, "edgecensus: m", "<6>edgecensus: m"),
        (.notice, "edgecensus: m", "<5>edgecensus: m"),
        (.warning, "edgecensus: warning: m", "<4>edgecensus: warning: m"),
        (.error, "edgecensus: error: m", "<3>edgecensus: error: m"),
        (.critical, "edgecensus: error: m", "<2>edgecensus: error: m"),
    ])
    func lines(level: Logger.Level, plain: String, journal: String) {
        #expect(JournalLineLogHandler.line(program: "edgecensus", level: level, message: "m", priorityPrefix: false) == plain)
        #expect(JournalLineLogHandler.line(program: "edgecensus", level: level, message: "m", priorityPrefix: true) == journal)
    }

    @Test("a message with line breaks stays one line (one journal entry)")
    func oneLine() {
        #expect(JournalLineLogHandler.line(program: "edgecensus", level: .warning, message: "a\nb", priorityPrefix: false)
            == "edgecensus: warning: a b")
    }

    @Test("standard error is the journal only when JOURNAL_STREAM names its device and inode")
    func journalDetection() throws {
        var status = stat()
        #expect(fstat(STDERR_FILENO, &status) == 0)
        let own = "\(status.st_dev):\(status.st_ino)"
        #expect(JournalLineLogHandler.standardErrorIsJournal(environment: ["JOURNAL_STREAM": own]))
        #expect(!JournalLineLogHandler.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]))
        #expect(!JournalLineLogHandler.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "nonsense"]))
        #expect(!JournalLineLogHandler.standardErrorIsJournal(environment: [:]))
    }
}
