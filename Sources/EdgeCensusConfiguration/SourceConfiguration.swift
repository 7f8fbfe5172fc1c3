import EdgeCensusCounting
import EdgeCensusSupport
import Foundation

/// `source`: where frames come from.
public struct SourceConfiguration: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A V4L2 camera (`device`).
        case camera
        /// A video file (`path`).
        case video
        /// A folder of images (`path`), one frame per `interval` seconds.
        case images
    }

    public enum PixelFormat: String, Sendable, CaseIterable {
        case auto, mjpeg, yuyv
    }

    public var kind = Kind.camera
    /// `source.device`: a device path, or a stable `/dev/v4l/by-id/...` name.
    public var device = "/dev/video0"
    public var width = 640
    public var height = 480
    public var fps = 15.0
    public var format = PixelFormat.auto
    /// `source.path`: the video file or image folder.
    public var path = ""
    /// `source.realtime`: play a video at its own frame rate, as a camera would
    /// deliver it (frames dropped when analysis is slower); false analyses it as fast
    /// as possible on its own timeline, so that the same file always gives the same counts.
    public var realtime = true
    /// `source.start_time`: the wall-clock time of a recording's first frame
    /// (ISO 8601), when `realtime` is false; default: when the run starts.
    public var startTime: Double?
    /// `source.interval`: seconds between images of a folder.
    public var interval = 1.0

    public init() {}
}
