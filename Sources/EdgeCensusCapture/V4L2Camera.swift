internal import CV4L2
import EdgeCensusVision
import Foundation

/// A V4L2 camera through libv4l2: negotiates the configured size, rate and format,
/// streams through mmap buffers with `select` timeouts, and reopens the device
/// with backoff when it is unplugged, busy or stops delivering frames.
public final class V4L2Camera: FrameSource {
    public enum Format: String, Sendable {
        /// MJPEG above 640x480, YUYV up to it, converted here; for any other
        /// format, libv4l2's conversion to BGR.
        case auto
        /// Ask for MJPEG and decode it here (cheaper on boards whose libv4l2 decoder is slow).
        case mjpeg
        /// Ask for YUYV and convert it here.
        case yuyv
    }

    public struct Settings: Sendable, Equatable {
        public var device: String
        public var width: Int
        public var height: Int
        public var fps: Double
        public var format: Format
        /// Seconds without a frame before the camera counts as lost and is reopened.
        public var frameTimeout: Double = 5

        public init(device: String, width: Int, height: Int, fps: Double, format: Format) {
            self.device = device
            self.width = width
            self.height = height
            self.fps = fps
            self.format = format
        }
    }

    /// The camera's health, for logs and health reports.
    public enum State: Sendable, Equatable {
        case closed
        case streaming(width: Int, height: Int, fourcc: String, fps: Double)
        case lost(reason: String, retryIn: Double)
    }

    public let settings: Settings
    public private(set) var state = State.closed
    /// What was asked of the device at the last open (the driver may have adjusted it: see `state`).
    public private(set) var requested: FormatNegotiation.Choice?
    /// Frames the device delivered that could not be converted (a corrupt MJPEG frame,
    /// the stale first buffer some drivers hand out): skipped, the stream goes on.
    public private(set) var skippedFrames = 0
    private var descriptor: Int32 = -1
    private var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    private var negotiated = (width: 0, height: 0, fourcc: UInt32(0), bytesPerLine: 0)
    private var backoff = ReconnectBackoff()
    private var nextAttempt = 0.0
    private var lastFrame = 0.0
    private var index = 0
    private var started: Double?
    private var stopped = false
    /// What closed the camera, until it streams again.
    private var lostBy: CaptureError?

    /// Does not open the device yet: the first `nextFrame` does, and keeps trying.
    public init(settings: Settings) throws(CaptureError) {
        self.settings = settings
    }

    deinit { closeDevice() }

    public var description: String { "camera \(settings.device)" }

    public var streamingFormat: String? {
        guard case let .streaming(width, height, fourcc, fps) = state else { return nil }
        return "\(fourcc) \(width)x\(height) at \(String(format: "%g", fps)) fps"
    }

    public func nextFrame() throws(CaptureError) -> Frame? {
        guard !stopped else { return nil }
        let now = ProcessInfo.processInfo.systemUptime
        if descriptor < 0 {
            if now < nextAttempt {
                Thread.sleep(forTimeInterval: min(0.5, nextAttempt - now))
                // Still waiting: the problem is the one that lost the camera.
                if let lostBy { throw lostBy }
                return try nextFrame()
            }
            do {
                try openDevice()
                backoff.succeeded()
                lostBy = nil
                lastFrame = ProcessInfo.processInfo.systemUptime
            } catch {
                lose(error)
                throw error
            }
        }
        do {
            return try readFrame()
        } catch {
            if case .unreadableFrame = error {
                skippedFrames += 1
            } else {
                lose(error)
            }
            throw error
        }
    }

    public func close() {
        stopped = true
        closeDevice()
    }

    private func lose(_ error: CaptureError) {
        lostBy = error
        closeDevice()
        let wait = backoff.failed()
        nextAttempt = ProcessInfo.processInfo.systemUptime + wait
        state = .lost(reason: "\(error)", retryIn: wait)
    }

    // MARK: - Opening and negotiating

    private func openDevice() throws(CaptureError) {
        let path = settings.device
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
        let fd = CV4L2_open(path, O_RDWR | O_NONBLOCK)
        guard fd >= 0 else { throw .device(path: path, operation: "open", errno: errno) }
        descriptor = fd
        var capability = v4l2_capability()
        try ioctl(CV4L2_VIDIOC_QUERYCAP, &capability, "VIDIOC_QUERYCAP")
        let caps =
            capability.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0
            ? capability.device_caps : capability.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0 else {
            throw .unsupportedFormat(path: path, reason: "not a video capture device")
        }
        guard caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw .unsupportedFormat(path: path, reason: "the device does not support streaming I/O")
        }

        // Choose from what the camera offers, then ask for it; the driver may still adjust.
        let offers = (V4L2Devices.describe(fd: fd, path: path, stableNames: [])?.formats ?? []).map(\.offer)
        let preferred: String? =
            switch settings.format {
            case .auto: nil
            case .mjpeg: "MJPG"
            case .yuyv: "YUYV"
            }
        let choice: FormatNegotiation.Choice
        do {
            choice = try FormatNegotiation.choose(
                from: offers, width: settings.width, height: settings.height,
                fps: settings.fps, preferred: preferred)
        } catch {
            throw .unsupportedFormat(path: path, reason: "\(error)")
        }
        requested = choice
        var format = v4l2_format()
        format.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        format.fmt.pix.width = UInt32(choice.width)
        format.fmt.pix.height = UInt32(choice.height)
        format.fmt.pix.field = UInt32(V4L2_FIELD_ANY.rawValue)
        format.fmt.pix.pixelformat = Self.fourccCode(choice.fourcc)
        try ioctl(CV4L2_VIDIOC_S_FMT, &format, "VIDIOC_S_FMT")
        let fourcc = format.fmt.pix.pixelformat
        guard [CV4L2_PIX_FMT_BGR24, CV4L2_PIX_FMT_MJPEG, CV4L2_PIX_FMT_JPEG, CV4L2_PIX_FMT_YUYV].contains(fourcc) else {
            throw .unsupportedFormat(
                path: path, reason: "the driver answered \(Self.fourccName(fourcc)) when asked for \(choice.fourcc)")
        }
        let width = Int(format.fmt.pix.width), height = Int(format.fmt.pix.height)
        let bytesPerLine = Int(format.fmt.pix.bytesperline)
        negotiated = (
            width, height, fourcc, bytesPerLine > 0 ? bytesPerLine : width * (fourcc == CV4L2_PIX_FMT_YUYV ? 2 : 3)
        )

        var parameters = v4l2_streamparm()
        parameters.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        parameters.parm.capture.timeperframe = v4l2_fract(
            numerator: 1000, denominator: UInt32((choice.fps ?? settings.fps) * 1000))
        // Not every driver lets the rate be set.
        _ = withUnsafeMutablePointer(to: &parameters) { CV4L2_ioctl(descriptor, CV4L2_VIDIOC_S_PARM, $0) }
        let rate =
            parameters.parm.capture.timeperframe.numerator > 0
            ? Double(parameters.parm.capture.timeperframe.denominator)
                / Double(parameters.parm.capture.timeperframe.numerator)
            : settings.fps

        var request = v4l2_requestbuffers()
        request.count = 4
        request.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        request.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
        try ioctl(CV4L2_VIDIOC_REQBUFS, &request, "VIDIOC_REQBUFS")
        guard request.count >= 2 else {
            throw .unsupportedFormat(path: path, reason: "the device granted \(request.count) buffer(s)")
        }
        for number in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            buffer.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
            buffer.index = number
            try ioctl(CV4L2_VIDIOC_QUERYBUF, &buffer, "VIDIOC_QUERYBUF")
            guard
                let start = CV4L2_mmap(
                    nil, Int(buffer.length), PROT_READ | PROT_WRITE, MAP_SHARED, descriptor,
                    Int64(buffer.m.offset)), start != MAP_FAILED
            else {
                throw .device(path: path, operation: "mmap", errno: errno)
            }
            buffers.append((start, Int(buffer.length)))
            try ioctl(CV4L2_VIDIOC_QBUF, &buffer, "VIDIOC_QBUF")
        }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try ioctl(CV4L2_VIDIOC_STREAMON, &type, "VIDIOC_STREAMON")
        state = .streaming(width: width, height: height, fourcc: Self.fourccName(fourcc), fps: rate)
    }

    // MARK: - Streaming

    private func readFrame() throws(CaptureError) -> Frame? {
        let path = settings.device
        var set = fd_set()
        CV4L2_FD_ZERO(&set)
        CV4L2_FD_SET(descriptor, &set)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        let ready = select(descriptor + 1, &set, nil, nil, &timeout)
        if ready < 0 {
            if errno == EINTR { return try readFrame() }
            throw .device(path: path, operation: "select", errno: errno)
        }
        let now = ProcessInfo.processInfo.systemUptime
        if ready == 0 {
            if now - lastFrame > settings.frameTimeout {
                throw .noFrames(source: description, seconds: now - lastFrame)
            }
            return try readFrame()
        }
        var buffer = v4l2_buffer()
        buffer.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        buffer.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
        guard withUnsafeMutablePointer(to: &buffer, { CV4L2_ioctl(descriptor, CV4L2_VIDIOC_DQBUF, $0) }) == 0 else {
            if errno == EAGAIN { return try readFrame() }
            throw .device(path: path, operation: "VIDIOC_DQBUF", errno: errno)
        }
        defer { _ = withUnsafeMutablePointer(to: &buffer) { CV4L2_ioctl(descriptor, CV4L2_VIDIOC_QBUF, $0) } }
        lastFrame = now
        let mapped = buffers[Int(buffer.index)]
        let bytes = UnsafeRawBufferPointer(start: mapped.start, count: min(Int(buffer.bytesused), mapped.length))
        let image: Image
        do {
            image = try convert(bytes)
        } catch {
            throw .unreadableFrame(source: description, reason: "\(error)")
        }
        let start = started ?? now
        started = start
        defer { index += 1 }
        return Frame(image: image, time: now - start, index: index)
    }

    private func convert(_ bytes: UnsafeRawBufferPointer) throws(VisionError) -> Image {
        let (width, height, fourcc, bytesPerLine) = negotiated
        switch fourcc {
        case CV4L2_PIX_FMT_MJPEG, CV4L2_PIX_FMT_JPEG:
            return try Image.decode(Array(bytes))
        case CV4L2_PIX_FMT_YUYV:
            return try Image.fromYUYV(bytes, width: width, height: height, bytesPerLine: bytesPerLine)
        default:  // BGR24, from libv4l2's conversion
            return try Image.copying(bytes, width: width, height: height, channels: 3, bytesPerLine: bytesPerLine)
        }
    }

    private func closeDevice() {
        guard descriptor >= 0 else { return }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = withUnsafeMutablePointer(to: &type) { CV4L2_ioctl(descriptor, CV4L2_VIDIOC_STREAMOFF, $0) }
        for buffer in buffers { _ = CV4L2_munmap(buffer.start, buffer.length) }
        buffers = []
        _ = CV4L2_close(descriptor)
        descriptor = -1
        if case .streaming = state { state = .closed }
    }

    private func ioctl<T>(_ request: UInt, _ argument: inout T, _ name: String) throws(CaptureError) {
        let fd = descriptor
        guard withUnsafeMutablePointer(to: &argument, { CV4L2_ioctl(fd, request, $0) }) == 0 else {
            throw .device(path: settings.device, operation: name, errno: errno)
        }
    }

    static func fourccCode(_ name: String) -> UInt32 {
        Array(name.utf8.prefix(4)).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    /// "YUYV"; a big-endian variant (the top bit set) as v4l2-ctl writes it: "Y16 -BE".
    static func fourccName(_ code: UInt32) -> String {
        let bigEndian: UInt32 = 1 << 31
        let name = String(
            decoding: (0..<4).map { UInt8(truncatingIfNeeded: (code & ~bigEndian) >> (8 * $0)) }, as: UTF8.self)
        return code & bigEndian != 0 ? name + "-BE" : name
    }
}
