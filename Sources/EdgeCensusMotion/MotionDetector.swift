internal import COpenCV
public import EdgeCensusVision
import Foundation

/// What the motion check saw in one frame.
public struct MotionObservation: Sendable, Equatable {
    /// The share of the picture (0 to 1) that differs from the background.
    public var changedShare: Double
    /// Where it changed, in the frame's pixels; nil when nothing did.
    public var region: PixelBox?
    /// Whether the change is large enough to count as motion (`motion.min_area_percent`).
    public var isMotion: Bool
    /// True when the background was started again from this frame: the first frame,
    /// a new frame size, or a change over most of the picture at once (the light,
    /// not a person). Such a frame counts as motion, so that the detector looks once.
    public var relearned: Bool
    /// The frame's mean grey level minus the background's, before they were matched.
    public var brightnessShift: Double
}

/// Compares each frame with a slowly adapting background: a 160-pixel-wide, blurred
/// grey copy of the frame, matched in mean and contrast to the background (so that
/// auto-exposure steps and flicker cancel), differenced, and thresholded. It costs
/// a fraction of a millisecond per frame where the face detector costs tens.
///
/// One detector belongs to one thread (the capture thread of a live source, the
/// loop of a recording).
public final class MotionDetector {
    /// The width of the grey copy compared.
    public static let analysisWidth = 160
    /// The background forgets a frame with this time constant (seconds): a change
    /// that stays (a bag put down, a chair moved) stops counting as motion within a
    /// few of these; a passer-by is far faster.
    public static let backgroundSeconds = 4.0
    /// A change over more than this share of the picture at once is taken as a
    /// lighting change: the background starts again from that frame.
    public static let relearnShare = 0.5

    public var settings: MotionSettings
    private let handle: OpaquePointer
    private var lastTime: Double?

    public init(settings: MotionSettings) {
        self.settings = settings
        // ec_motion_create fails only for a width under 16.
        handle = ec_motion_create(Int32(Self.analysisWidth))!
    }

    deinit { ec_motion_destroy(handle) }

    /// Compares `image`, captured at `time` (seconds, any clock that only goes
    /// forward), with the background and blends it in.
    public func observe(_ image: Image, at time: Double) throws(VisionError) -> MotionObservation {
        // The background's weight for this frame follows the time since the last one,
        // so that it adapts at the same speed whatever the camera's frame rate.
        let elapsed = lastTime.map { min(max(time - $0, 0), 2 * Self.backgroundSeconds) } ?? 0
        lastTime = time
        let alpha = 1 - exp(-elapsed / Self.backgroundSeconds)
        var result = ec_motion_result()
        let status = withExtendedLifetime(image) {
            ec_motion_update(handle, image.handle, settings.threshold, alpha, Self.relearnShare, &result)
        }
        guard status == 0 else {
            throw .imageOperationFailed(operation: "motion check", reason: String(cString: ec_last_error()))
        }
        let region =
            result.width > 0 && result.height > 0
            ? PixelBox(x: Int(result.x), y: Int(result.y), width: Int(result.width), height: Int(result.height)) : nil
        let relearned = result.relearned != 0
        return MotionObservation(
            changedShare: result.changed_share, region: region,
            isMotion: relearned || result.changed_share * 100 >= settings.minAreaPercent,
            relearned: relearned, brightnessShift: result.brightness_shift)
    }
}
