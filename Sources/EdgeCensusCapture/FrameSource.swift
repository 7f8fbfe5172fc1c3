public import EdgeCensusVision
import Foundation

/// One captured frame.
public struct Frame {
    public var image: Image
    /// Seconds since the source started, by the source's own clock (a camera's
    /// capture time, a video's timestamps).
    public var time: Double
    public var index: Int

    public init(image: Image, time: Double, index: Int) {
        self.image = image
        self.time = time
        self.index = index
    }
}

/// Where frames come from: a V4L2 camera, a video file, a folder of images. The
/// agent reads them on a capture thread, so `nextFrame` may block.
public protocol FrameSource: AnyObject {
    /// A short description for logs ("video etc/samples/walkers.avi").
    var description: String { get }
    /// The next frame; nil when a finite source (a file) has ended.
    func nextFrame() throws(CaptureError) -> Frame?
    /// Releases the device or file. `nextFrame` may not be called afterwards.
    func close()
    /// What the source streams now, for logs ("YUYV 640x480 at 5 fps"); nil if it does not say.
    var streamingFormat: String? { get }
}

extension FrameSource {
    public var streamingFormat: String? { nil }
}

/// What went wrong while capturing, said so that the user knows what to do.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case cannotOpen(path: String, reason: String)
    case unreadableFrame(source: String, reason: String)
    case device(path: String, operation: String, errno: Int32)
    case noFrames(source: String, seconds: Double)
    case unsupportedFormat(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path): return "\(path) does not exist"
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .unreadableFrame(source, reason): return "\(source): unreadable frame (\(reason))"
        case let .device(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .noFrames(source, seconds): return "\(source): no frame for \(Int(seconds)) s"
        case let .unsupportedFormat(path, reason): return "\(path): \(reason)"
        }
    }
}
