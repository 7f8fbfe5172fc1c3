import EdgeCensusFleet
import Testing

/// What `fleet config set` prints and whether it succeeded.
@Suite("The result of one change sent to many devices")
struct BulkChangeReportTests {
    @Test("applied, refused and silent devices each get a line and the reason; success only when all applied")
    func outcomes() {
        let answers = [
            "shop-1":
                #"{"status":"ok","applied":{},"config_version":3,"restart_required":["source.width"],"transaction":"t-0"}"#,
            "shop-2":
                #"{"status":"error","error":"config_version: the device is at 5, not 2","config_version":5,"transaction":"t-1"}"#,
        ]
        let report = BulkChangeReport(devices: ["shop-1", "shop-2", "shop-3"], answers: answers)
        #expect(report.outcomes.map(\.device) == ["shop-1", "shop-2", "shop-3"])
        #expect(report.outcomes[0].outcome == .applied(configVersion: 3, restartRequired: ["source.width"]))
        #expect(report.outcomes[1].outcome == .refused(reason: "config_version: the device is at 5, not 2"))
        #expect(report.outcomes[2].outcome == .noAnswer)
        #expect(!report.allApplied)
        let lines = report.table.split(separator: "\n").map(String.init)
        #expect(
            lines[1].contains("shop-1") && lines[1].contains("applied") && lines[1].contains("v3")
                && lines[1].contains("restart needed for source.width"))
        #expect(lines[2].contains("refused") && lines[2].contains("the device is at 5"))
        #expect(lines[3].contains("no answer"))
        #expect(lines.last == "3 device(s): 1 applied, 1 refused, 1 did not answer")
        #expect(BulkChangeReport(devices: ["shop-1"], answers: answers).allApplied)
    }
}
