/// `motion.*`: the check that runs on every frame before the face detector, so that
/// a board watching an empty room spends almost nothing.
public struct MotionSettings: Sendable, Equatable {
    /// `motion.enabled`: false runs the detector at `throttle.max_rate_hz` whatever moves.
    public var enabled = true
    /// `motion.threshold`: how many grey levels (of 255) a spot of the picture must
    /// change by, against the running background, to count as changed. Lower is more
    /// sensitive. The picture compared is a 160-pixel-wide blurred copy, so sensor
    /// noise is averaged away long before it reaches this.
    public var threshold = 20.0
    /// `motion.min_area_percent`: the share of the picture (in percent) that must
    /// change for a frame to count as motion. A face 30 pixels wide in a 640x360 frame
    /// covers about 0.5 %; a whole person far more.
    public var minAreaPercent = 0.2

    public init() {}
}
