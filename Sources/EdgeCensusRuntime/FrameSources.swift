public import EdgeCensusAgent
public import EdgeCensusCapture
public import EdgeCensusConfiguration
public import EdgeCensusVision
import Foundation

/// Turns the configured source into a frame source and the pacing it implies.
public enum FrameSources {
    /// `maxPixels`: images (a folder's, a camera's MJPEG frames) declaring more are refused.
    public static func open(_ configuration: SourceConfiguration, maxPixels: Int = Image.defaultMaxPixels) throws -> (
        any FrameSource, PacingMode
    ) {
        let recording = PacingMode.recording(start: configuration.startTime ?? Date().timeIntervalSince1970)
        switch configuration.kind {
        case .video:
            let source = try VideoFileSource(path: configuration.path, realtime: configuration.realtime)
            return (source, configuration.realtime ? .live : recording)
        case .images:
            return (
                try ImageFolderSource(
                    folder: configuration.path, interval: configuration.interval, maxPixels: maxPixels), recording
            )
        case .camera:
            let camera = try V4L2Camera(
                settings: .init(
                    device: configuration.device, width: configuration.width,
                    height: configuration.height, fps: configuration.fps,
                    format: V4L2Camera.Format(rawValue: configuration.format.rawValue) ?? .auto))
            return (camera, .live)
        }
    }
}
