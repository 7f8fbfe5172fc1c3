internal import COpenCV
import Foundation

/// A network loaded through OpenCV's dnn module (CPU). Not thread-safe: one
/// instance runs one forward pass at a time, on the thread that calls it.
public final class NeuralNetwork {
    fileprivate let handle: OpaquePointer
    /// The file the network came from, for error messages.
    public let name: String
    private var output: [Float] = []
    fileprivate var namedOutput: [Float] = []

    private init(handle: OpaquePointer, name: String) {
        self.handle = handle
        self.name = name
    }

    deinit { ec_net_destroy(handle) }

    /// Loads a Caffe network: its `deploy.prototxt` and its `.caffemodel` weights.
    public static func caffe(prototxt: String, weights: String) throws(VisionError) -> NeuralNetwork {
        guard let handle = ec_net_read_caffe(prototxt, weights) else {
            throw .modelLoadFailed(path: "\(prototxt) + \(weights)", reason: Image.lastError)
        }
        return NeuralNetwork(handle: handle, name: weights)
    }

    /// Loads an ONNX network.
    public static func onnx(path: String) throws(VisionError) -> NeuralNetwork {
        guard let handle = ec_net_read_onnx(path) else {
            throw .modelLoadFailed(path: path, reason: Image.lastError)
        }
        return NeuralNetwork(handle: handle, name: path)
    }

    /// Seconds spent in forward passes (OpenCV's own work) since the net was loaded.
    public fileprivate(set) var forwardSeconds = 0.0
    /// Forward passes run since the net was loaded.
    public fileprivate(set) var forwardCount = 0

    /// Runs one forward pass on an NCHW blob and returns the output tensor.
    public func forward(_ blob: Blob) throws(VisionError) -> Tensor {
        let started = ContinuousClock.now
        defer {
            forwardSeconds += (ContinuousClock.now - started).seconds
            forwardCount += 1
        }
        if output.isEmpty { output = [Float](repeating: 0, count: 4096) }
        var count = 0
        var shape = [Int32](repeating: 0, count: 4)
        var dims: Int32 = 0
        for _ in 0..<2 {
            let status = blob.values.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    ec_net_forward(
                        handle, input.baseAddress, Int32(blob.batch), Int32(blob.channels),
                        Int32(blob.height), Int32(blob.width), out.baseAddress, out.count, &count,
                        &shape, &dims)
                }
            }
            guard status == 0 else { throw .unexpectedOutput(model: name, reason: Image.lastError) }
            if count <= output.count { break }
            output = [Float](repeating: 0, count: count)  // rare: grow once and run again
        }
        return Tensor(values: Array(output[0..<count]), shape: shape[0..<Int(dims)].map(Int.init))
    }
}

extension NeuralNetwork {
    /// Runs one forward pass and reads the outputs named `names`, in that order
    /// (for nets with several heads, such as YuNet's or an age-and-gender net).
    public func forward(_ blob: Blob, outputs names: [String]) throws(VisionError) -> [[Float]] {
        let started = ContinuousClock.now
        defer {
            forwardSeconds += (ContinuousClock.now - started).seconds
            forwardCount += 1
        }
        var counts = [Int](repeating: 0, count: names.count)
        var capacity = max(namedOutput.count, 4096)
        for _ in 0..<2 {
            if namedOutput.count < capacity { namedOutput = [Float](repeating: 0, count: capacity) }
            let status = withCStrings(names) { pointers in
                blob.values.withUnsafeBufferPointer { input in
                    namedOutput.withUnsafeMutableBufferPointer { out in
                        counts.withUnsafeMutableBufferPointer { sizes in
                            ec_net_forward_named(
                                handle, input.baseAddress, Int32(blob.batch), Int32(blob.channels),
                                Int32(blob.height), Int32(blob.width), pointers, Int32(names.count),
                                out.baseAddress, out.count, sizes.baseAddress)
                        }
                    }
                }
            }
            guard status == 0 else { throw .unexpectedOutput(model: name, reason: Image.lastError) }
            let total = counts.reduce(0, +)
            if total <= namedOutput.count { break }
            capacity = total  // rare: grow once and run again
        }
        var outputs: [[Float]] = [], offset = 0
        for count in counts {
            outputs.append(Array(namedOutput[offset..<(offset + count)]))
            offset += count
        }
        return outputs
    }
}

/// Calls `body` with the strings as a C array of C strings.
private func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result)
    -> Result
{
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// An NCHW float input for a network.
public struct Blob: Sendable {
    public var values: [Float]
    public var batch: Int, channels: Int, height: Int, width: Int

    public init(values: [Float], batch: Int = 1, channels: Int, height: Int, width: Int) {
        precondition(values.count == batch * channels * height * width, "blob size must match its shape")
        self.values = values
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Builds a blob from a 3-channel BGR image that already has the input size:
    /// `(pixel - mean) * scale` per channel, in the channel order asked for.
    /// `mean` is given in that same channel order.
    public init(image: Image, order: ColorOrder, mean: [Double], scale: Double) {
        precondition(image.channels == 3 && mean.count == 3, "a blob is made from a 3-channel image and 3 means")
        let width = image.width, height = image.height, plane = width * height
        var values = [Float](repeating: 0, count: 3 * plane)
        // Which BGR byte feeds output channel k.
        let source = order == .bgr ? [0, 1, 2] : [2, 1, 0]
        let means = mean.map(Float.init), factor = Float(scale)
        image.withPixels { pixels in
            let stride = image.stride
            values.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let row = y * stride
                    for x in 0..<width {
                        let pixel = row + x * 3, index = y * width + x
                        for k in 0..<3 {
                            out[k * plane + index] = (Float(pixels[pixel + source[k]]) - means[k]) * factor
                        }
                    }
                }
            }
        }
        self.init(values: values, channels: 3, height: height, width: width)
    }
}

/// A network's output: values in row-major order and their shape.
public struct Tensor: Sendable {
    public var values: [Float]
    public var shape: [Int]
}

/// OpenCV facts for benchmarks and logs.
public enum OpenCVRuntime {
    public static var version: String { String(cString: ec_opencv_version()) }
    public static var threadCount: Int { Int(ec_get_num_threads()) }
    /// Sets how many threads OpenCV's parallel loops use (0 = sequential).
    public static func setThreadCount(_ count: Int) { ec_set_num_threads(Int32(count)) }
}
