import EdgeCensusAgent
import EdgeCensusCapture
import EdgeCensusCounting
import EdgeCensusVision
import Foundation

/// `bench --static-scene`'s camera: an empty room as a YUYV camera gives it, at a
/// camera's pace. The scene (a wall, a door, two posters) is drawn once; sensor
/// noise (Gaussian, seeded) is drawn into 16 different YUYV buffers beforehand,
/// and each frame converts one of them to BGR as a camera frame is converted, so
/// that the benchmark measures the agent, not the drawing.
final class StaticSceneCamera: FrameSource {
    let width: Int, height: Int, fps: Double
    private let buffers: [[UInt8]]
    private let started = SystemThrottleInputs().now()
    private var index = 0
    private var closed = false

    init(width: Int = 640, height: Int = 480, fps: Double = 10, noiseSigma: Double = 3, seed: UInt64 = 28) {
        self.width = width
        self.height = height
        self.fps = fps
        var generator = SeededGenerator(seed: seed)
        let scene = Self.scene(width: width, height: height)
        buffers = (0..<16).map { _ in
            Self.yuyv(scene, width: width, height: height, noiseSigma: noiseSigma, using: &generator)
        }
    }

    var description: String { "a static scene (\(width)x\(height) YUYV at \(Int(fps)) frames/s, sensor noise)" }
    var streamingFormat: String? { "YUYV \(width)x\(height) at \(Int(fps)) fps" }

    func nextFrame() throws(CaptureError) -> Frame? {
        guard !closed else { return nil }
        // Frames come at the camera's pace, as a V4L2 camera's dequeue waits for the next one.
        let due = started + Double(index) / fps
        let wait = due - SystemThrottleInputs().now()
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        let buffer = buffers[index % buffers.count]
        let image: Image
        do {
            image = try buffer.withUnsafeBytes { bytes throws(VisionError) in
                try Image.fromYUYV(bytes, width: width, height: height, bytesPerLine: width * 2)
            }
        } catch {
            throw .unreadableFrame(source: description, reason: "\(error)")
        }
        defer { index += 1 }
        return Frame(image: image, time: Double(index) / fps, index: index)
    }

    func close() { closed = true }

    /// The room, in RGB: a wall lit from above, a floor, a door and two posters.
    private static func scene(width: Int, height: Int) -> [(r: Double, g: Double, b: Double)] {
        var pixels = [(r: Double, g: Double, b: Double)](repeating: (0, 0, 0), count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let fy = Double(y) / Double(height), fx = Double(x) / Double(width)
                var colour: (r: Double, g: Double, b: Double) =
                    fy < 0.8 ? (210 - 40 * fy, 205 - 30 * fy, 200 - 35 * fy) : (110, 100, 90)
                if (0.06..<0.22).contains(fx) && (0.17..<0.8).contains(fy) { colour = (120, 90, 70) }
                if (0.73..<0.94).contains(fx) && (0.11..<0.36).contains(fy) { colour = (90, 120, 160) }
                if (0.36..<0.52).contains(fx) && (0.08..<0.25).contains(fy) { colour = (150, 160, 120) }
                pixels[y * width + x] = colour
            }
        }
        return pixels
    }

    /// The scene with noise, as YUYV 4:2:2 (BT.601, limited range).
    private static func yuyv(
        _ scene: [(r: Double, g: Double, b: Double)], width: Int, height: Int, noiseSigma: Double,
        using generator: inout SeededGenerator
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: width * height * 2)
        func clamp(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
        for y in 0..<height {
            for x in stride(from: 0, to: width, by: 2) {
                var ys = [Double](), us = 0.0, vs = 0.0
                for dx in 0..<2 {
                    let p = scene[y * width + x + dx]
                    let r = p.r + generator.gaussian() * noiseSigma, g = p.g + generator.gaussian() * noiseSigma
                    let b = p.b + generator.gaussian() * noiseSigma
                    ys.append(16 + 0.257 * r + 0.504 * g + 0.098 * b)
                    us += 128 - 0.148 * r - 0.291 * g + 0.439 * b
                    vs += 128 + 0.439 * r - 0.368 * g - 0.071 * b
                }
                let at = (y * width + x) * 2
                bytes[at] = clamp(ys[0])
                bytes[at + 1] = clamp(us / 2)
                bytes[at + 2] = clamp(ys[1])
                bytes[at + 3] = clamp(vs / 2)
            }
        }
        return bytes
    }
}

/// SplitMix64 with Gaussian draws (Box–Muller), for reproducible noise.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func gaussian() -> Double {
        let u = max(Double.random(in: 0..<1, using: &self), 1e-12), v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
