internal import COpenCV
import Foundation

/// An 8-bit image in memory, 3 channels in OpenCV's BGR order (or 1 channel).
///
/// Images, and the face crops cut from them, live only in memory: nothing here
/// writes one to disk except `write(to:)`, which only the local debug options
/// `detect --annotate` and `cameras check --save-frame` call.
public final class Image {
    package let handle: OpaquePointer

    package init(taking handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { ec_image_destroy(handle) }

    /// The most pixels an image may declare unless told otherwise (`ImageLimits`).
    public static let defaultMaxPixels = ImageLimits.defaultMaxPixels
    /// The largest image file read (bytes).
    public static let largestFile = 256 * 1_048_576

    /// Decodes an image file (JPEG or PNG). Refused, naming the file and why: a file
    /// that is missing, not a regular file, unreadable, empty or larger than
    /// `largestFile`; an image that declares more than `maxPixels`; a JPEG that is
    /// damaged or cut short (libjpeg would fill the missing part with grey).
    public static func load(contentsOf path: String, maxPixels: Int = defaultMaxPixels) throws(VisionError) -> Image {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .fileNotFound(path: path, role: "image") }
            throw .fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .notAnImage(path: path, reason: "a folder, not a file")
        default: throw .notAnImage(path: path, reason: "not a regular file (a device, pipe or socket)")
        }
        guard Int(status.st_size) <= largestFile else {
            throw .notAnImage(
                path: path,
                reason: "\(status.st_size) bytes, larger than the \(largestFile / 1_048_576) MiB an image file may be")
        }
        guard status.st_size > 0 else { throw .notAnImage(path: path, reason: "the file is empty") }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code
            throw .fileUnreadable(
                path: path, reason: code.map { String(cString: strerror(Int32($0))) } ?? error.localizedDescription)
        }
        do {
            return try decode([UInt8](bytes), maxPixels: maxPixels)
        } catch {
            throw .notAnImage(path: path, reason: Self.lastError)
        }
    }

    /// Decodes encoded image bytes (a JPEG frame from a camera, a PNG file's contents),
    /// refusing what declares more than `maxPixels` and a JPEG that is damaged or cut short.
    public static func decode(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws(VisionError) -> Image {
        let handle = bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            return ec_image_decode(base, buffer.count, UInt64(max(maxPixels, 1)))
        }
        guard let handle else { throw .imageOperationFailed(operation: "decode", reason: Self.lastError) }
        return Image(taking: handle)
    }

    /// Copies raw interleaved pixels (BGR for 3 channels) into a new image.
    public convenience init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(VisionError) {
        precondition(pixels.count == width * height * channels, "pixel count must be width * height * channels")
        let handle = pixels.withUnsafeBufferPointer { buffer in
            ec_image_create(Int32(width), Int32(height), Int32(channels), buffer.baseAddress, width * channels)
        }
        guard let handle else { throw .imageOperationFailed(operation: "create", reason: Self.lastError) }
        self.init(taking: handle)
    }

    /// Copies raw interleaved pixels whose rows are `bytesPerLine` apart (a camera
    /// buffer, which may pad its rows) into a new image.
    public static func copying(
        _ bytes: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int,
        bytesPerLine: Int
    ) throws(VisionError) -> Image {
        try check(bytes, rows: height, rowBytes: width * channels, bytesPerLine: bytesPerLine)
        guard
            let handle = ec_image_create(
                Int32(width), Int32(height), Int32(channels),
                bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytesPerLine)
        else {
            throw .imageOperationFailed(operation: "create", reason: lastError)
        }
        return Image(taking: handle)
    }

    /// Converts a YUYV 4:2:2 camera buffer (BT.601 limited range, rows `bytesPerLine`
    /// apart) to a BGR image.
    public static func fromYUYV(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerLine: Int)
        throws(VisionError) -> Image
    {
        try check(bytes, rows: height, rowBytes: width * 2, bytesPerLine: bytesPerLine)
        guard width % 2 == 0 else {
            throw .imageOperationFailed(operation: "YUYV conversion", reason: "odd width \(width)")
        }
        guard
            let handle = ec_image_from_yuyv(
                Int32(width), Int32(height),
                bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytesPerLine)
        else {
            throw .imageOperationFailed(operation: "YUYV conversion", reason: lastError)
        }
        return Image(taking: handle)
    }

    private static func check(_ bytes: UnsafeRawBufferPointer, rows: Int, rowBytes: Int, bytesPerLine: Int)
        throws(VisionError)
    {
        let needed = rows > 0 ? (rows - 1) * bytesPerLine + rowBytes : 0
        guard rows > 0, rowBytes > 0, bytesPerLine >= rowBytes, bytes.baseAddress != nil, bytes.count >= needed else {
            throw .imageOperationFailed(
                operation: "create",
                reason: "\(bytes.count) bytes cannot hold \(rows) rows of \(rowBytes) bytes, \(bytesPerLine) apart")
        }
    }

    public var width: Int { Int(ec_image_width(handle)) }
    public var height: Int { Int(ec_image_height(handle)) }
    public var channels: Int { Int(ec_image_channels(handle)) }
    /// Bytes from one row to the next.
    public var stride: Int { ec_image_stride(handle) }

    /// Gives read access to the pixel bytes (rows `stride` apart) for the duration of `body`.
    public func withPixels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let buffer = UnsafeBufferPointer(start: ec_image_pixels(handle), count: stride * height)
        return try withExtendedLifetime(self) { try body(buffer) }
    }

    /// The pixel at (x, y) as [blue, green, red] (or [gray]).
    public func pixel(x: Int, y: Int) -> [UInt8] {
        withPixels { pixels in
            let start = y * stride + x * channels
            return Array(pixels[start..<start + channels])
        }
    }

    public func resized(width: Int, height: Int, smoothing: Bool = false) throws(VisionError) -> Image {
        try Self.wrap("resize") {
            ec_image_resize(
                handle, Int32(width), Int32(height),
                Int32(smoothing ? EC_INTERPOLATION_AREA : EC_INTERPOLATION_LINEAR))
        }
    }

    /// Samples the image through an affine map from output to input pixel coordinates
    /// (bilinear; black outside the image).
    public func warped(by outputToInput: AffineTransform, width: Int, height: Int) throws(VisionError) -> Image {
        let matrix = outputToInput.matrix
        return try Self.wrap("warp") {
            matrix.withUnsafeBufferPointer { ec_image_warp_affine(handle, $0.baseAddress, Int32(width), Int32(height)) }
        }
    }

    /// Adds a border: repeated edge pixels, or black.
    public func padded(top: Int, bottom: Int, left: Int, right: Int, replicatingEdges: Bool) throws(VisionError)
        -> Image
    {
        try Self.wrap("pad") {
            ec_image_pad(
                handle, Int32(top), Int32(bottom), Int32(left), Int32(right),
                Int32(replicatingEdges ? EC_BORDER_REPLICATE : EC_BORDER_CONSTANT))
        }
    }

    public func flippedHorizontally() throws(VisionError) -> Image {
        try Self.wrap("flip") { ec_image_flip_horizontal(handle) }
    }

    /// The variance of the Laplacian of the grey levels: higher is sharper (a blurred
    /// or heavily compressed face scores low).
    public func laplacianVariance() -> Double {
        max(0, ec_image_laplacian_variance(handle))
    }

    public func copy() throws(VisionError) -> Image {
        try Self.wrap("copy") { ec_image_clone(handle) }
    }

    /// Encodes and writes the image in the format the extension names. Only for
    /// debug output that a user asked for on the local command line.
    public func write(to path: String) throws(VisionError) {
        guard ec_image_write(handle, path) == 0 else {
            throw .imageOperationFailed(operation: "write \(path)", reason: Self.lastError)
        }
    }

    func drawRectangle(_ box: PixelBox, color: RGBColor, thickness: Int) {
        ec_image_draw_rectangle(
            handle, Int32(box.x), Int32(box.y), Int32(box.width), Int32(box.height),
            color.blue, color.green, color.red, Int32(thickness))
    }

    func drawDot(at point: Point, radius: Int, color: RGBColor) {
        ec_image_draw_dot(
            handle, Int32(point.x.rounded()), Int32(point.y.rounded()), Int32(radius),
            color.blue, color.green, color.red)
    }

    func drawLabel(_ text: String, x: Int, y: Int, color: RGBColor, scale: Double) {
        ec_image_draw_label(handle, text, Int32(x), Int32(y), color.blue, color.green, color.red, scale)
    }

    private static func wrap(_ operation: String, _ body: () -> OpaquePointer?) throws(VisionError) -> Image {
        guard let handle = body() else { throw .imageOperationFailed(operation: operation, reason: lastError) }
        return Image(taking: handle)
    }

    static var lastError: String { String(cString: ec_last_error()) }
}

/// A colour for drawing.
public struct RGBColor: Sendable, Equatable {
    public var red: UInt8, green: UInt8, blue: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}
