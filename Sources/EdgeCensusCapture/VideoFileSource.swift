internal import COpenCV
public import EdgeCensusVision
import Foundation

/// Frames from a video file, through FFmpeg: either at the file's own
/// frame rate (a stand-in for a camera, for demos) or as fast as they can be read.
public final class VideoFileSource: FrameSource {
    public let path: String
    public let realtime: Bool
    private var video: OpaquePointer?
    private var index = 0
    private var started: Double?
    /// Frames per second the file declares (25 assumed when it declares none).
    public let framesPerSecond: Double

    public init(path: String, realtime: Bool) throws(CaptureError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
        guard let video = ec_video_open(path) else {
            throw .cannotOpen(path: path, reason: String(cString: ec_last_error()))
        }
        self.path = path
        self.realtime = realtime
        self.video = video
        let declared = ec_video_fps(video)
        framesPerSecond = declared > 0 && declared < 1000 ? declared : 25
    }

    deinit { close() }

    public var description: String { "video \(path)" }

    public func nextFrame() throws(CaptureError) -> Frame? {
        guard let video else { return nil }
        guard let handle = ec_video_read(video) else {
            let reason = String(cString: ec_last_error())
            if !reason.isEmpty { throw .unreadableFrame(source: description, reason: reason) }
            return nil  // the end of the file
        }
        let time = Double(index) / framesPerSecond
        defer { index += 1 }
        if realtime {
            let now = ProcessInfo.processInfo.systemUptime
            let start = started ?? now
            started = start
            let due = start + time
            if due > now { Thread.sleep(forTimeInterval: due - now) }
        }
        return Frame(image: Image(taking: handle), time: time, index: index)
    }

    public func close() {
        if let video { ec_video_close(video) }
        video = nil
    }
}

/// Frames from a folder of images (sorted by name), one every `interval` seconds
/// of source time. A file that cannot be used (undecodable, damaged, cut short,
/// larger than `maxPixels`) is skipped: `nextFrame` throws an error naming it and
/// why (which the agent logs), and the next call goes on with the next file.
public final class ImageFolderSource: FrameSource {
    public let folder: String
    public let interval: Double
    public let maxPixels: Int
    private var files: [String]
    private var index = 0
    /// Files that could not be used, with the reason.
    public private(set) var skipped: [(file: String, reason: String)] = []

    public init(folder: String, interval: Double = 1, maxPixels: Int = Image.defaultMaxPixels) throws(CaptureError) {
        self.maxPixels = maxPixels
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notFound(path: folder)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let images = Set(["jpg", "jpeg", "png"])
        files = names.filter { images.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
        self.folder = folder
        self.interval = interval
    }

    public var description: String { "images \(folder)" }

    public func nextFrame() throws(CaptureError) -> Frame? {
        while index < files.count {
            let file = files[index]
            index += 1
            do {
                return Frame(
                    image: try Image.load(contentsOf: file, maxPixels: maxPixels), time: Double(index - 1) * interval,
                    index: index - 1)
            } catch {
                skipped.append((file, "\(error)"))
                throw .unreadableFrame(source: description, reason: "\(error)")
            }
        }
        return nil
    }

    public func close() { index = files.count }
}
