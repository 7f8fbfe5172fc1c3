import EdgeCensusAgent
import EdgeCensusCapture
import Testing

@Suite("Skipped frames in the log")
struct SkippedFrameReportTests {
    static let corrupt = CaptureError.unreadableFrame(source: "camera /dev/video0", reason: "not a JPEG")

    @Test("the first skipped frame is logged at once, then at most one line a minute with the count")
    func rateLimited() {
        var report = SkippedFrameReport()
        #expect(
            report.skipped(Self.corrupt, at: 100) == "camera /dev/video0: unreadable frame (not a JPEG); frame skipped")
        #expect(report.skipped(Self.corrupt, at: 110) == nil)
        #expect(report.skipped(Self.corrupt, at: 150) == nil)
        #expect(
            report.skipped(Self.corrupt, at: 161)
                == "3 frames skipped in the last minute, the last: camera /dev/video0: unreadable frame (not a JPEG)")
        #expect(
            report.skipped(Self.corrupt, at: 300) == "camera /dev/video0: unreadable frame (not a JPEG); frame skipped")
    }
}
