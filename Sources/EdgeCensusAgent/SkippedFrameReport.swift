public import EdgeCensusCapture

/// Says that frames were skipped without a log line per frame: the first one at
/// once, then how many more at most once a minute.
public struct SkippedFrameReport {
    private var unreported = 0
    private var lastReport: Double?

    public init() {}

    /// The line to log now for this skipped frame, if any.
    public mutating func skipped(_ error: CaptureError, at time: Double) -> String? {
        unreported += 1
        if let lastReport, time - lastReport < 60 { return nil }
        defer { unreported = 0; lastReport = time }
        return unreported == 1
            ? "\(error); frame skipped"
            : "\(unreported) frames skipped in the last minute, the last: \(error)"
    }
}
