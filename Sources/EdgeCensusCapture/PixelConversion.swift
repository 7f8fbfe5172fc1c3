/// Conversions of raw camera buffers to the BGR images the pipeline reads.
public enum PixelConversion {
    /// YUYV 4:2:2 (Y0 U Y1 V per two pixels), BT.601 limited range, to interleaved BGR.
    public static func yuyvToBGR(_ source: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerLine: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        @inline(__always) func clamp(_ value: Int) -> UInt8 { UInt8(max(0, min(255, value))) }
        out.withUnsafeMutableBufferPointer { bgr in
            for y in 0..<height {
                let row = y * bytesPerLine
                for pair in 0..<(width / 2) {
                    let base = row + pair * 4
                    guard base + 3 < source.count else { continue }
                    let u = Int(source[base + 1]) - 128, v = Int(source[base + 3]) - 128
                    for k in 0..<2 {
                        let c = 298 * (Int(source[base + 2 * k]) - 16)
                        let o = (y * width + pair * 2 + k) * 3
                        bgr[o] = clamp((c + 516 * u + 128) >> 8)
                        bgr[o + 1] = clamp((c - 100 * u - 208 * v + 128) >> 8)
                        bgr[o + 2] = clamp((c + 409 * v + 128) >> 8)
                    }
                }
            }
        }
        return out
    }
}

/// When to try a lost camera again: 1 s, then doubling to 30 s, back to 1 s after
/// a success. A camera that is unplugged, busy or silent is retried for ever: the
/// agent never exits for it.
public struct ReconnectBackoff: Sendable, Equatable {
    public let initial: Double
    public let maximum: Double
    public private(set) var failures = 0

    public init(initial: Double = 1, maximum: Double = 30) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Records a failure; returns how long to wait before the next attempt.
    public mutating func failed() -> Double {
        failures += 1
        return min(maximum, initial * Double(1 << min(failures - 1, 20)))
    }

    public mutating func succeeded() { failures = 0 }
}
