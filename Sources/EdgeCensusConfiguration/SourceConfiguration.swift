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

extension SourceConfiguration: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case kind, device, width, height, fps, format, path, realtime, startTime = "start_time", interval
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Key.self)
        let c = try decoder.container(keyedBy: Key.self)
        self.init()
        if let name = try c.decodeIfPresent(String.self, forKey: .kind) {
            guard let parsed = Kind(rawValue: name) else {
                throw ConfigurationError(
                    key: c.path(.kind),
                    problem:
                        "'\(name)' is not a source; expected \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kind = parsed
        }
        device = try c.decodeIfPresent(String.self, forKey: .device) ?? device
        if let problem = TextRules.absolutePathProblem(device) {
            throw ConfigurationError(
                key: c.path(.device),
                problem: "\(problem); a camera is a device path such as /dev/video0 or /dev/v4l/by-id/...")
        }
        width = try c.decode(.width, default: width, in: 16...7680)
        height = try c.decode(.height, default: height, in: 16...4320)
        fps = try c.decode(.fps, default: fps, in: 0.1...240)
        if let name = try c.decodeIfPresent(String.self, forKey: .format) {
            guard let parsed = PixelFormat(rawValue: name) else {
                throw ConfigurationError(
                    key: c.path(.format), problem: "'\(name)' is not a pixel format; expected auto, mjpeg or yuyv")
            }
            format = parsed
        }
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        realtime = try c.decodeIfPresent(Bool.self, forKey: .realtime) ?? realtime
        if let text = try c.decodeIfPresent(String.self, forKey: .startTime), !text.isEmpty {
            guard let seconds = InternetTime.seconds(text) else {
                throw ConfigurationError(
                    key: c.path(.startTime), problem: "'\(text)' is not an ISO 8601 time such as 2026-01-01T08:00:00Z")
            }
            startTime = seconds
        }
        interval = try c.decode(.interval, default: interval, in: 0.001...3600)
        if kind != .camera && path.isEmpty {
            throw ConfigurationError(key: c.path(.path), problem: "a \(kind.rawValue) source needs a path")
        }
    }
}
