import Foundation

/// The process's resident memory, from `/proc/self/status` (Linux).
public struct ResidentMemory: Sendable, Equatable {
    /// Resident now (VmRSS), in bytes.
    public var current: Int
    /// The most it has been (VmHWM), in bytes.
    public var peak: Int

    public init(current: Int, peak: Int) {
        self.current = current
        self.peak = peak
    }

    /// Nil where `/proc` is not available.
    public static func now() -> ResidentMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return parse(status: text)
    }

    /// Reads the `VmRSS:` and `VmHWM:` lines ("VmRSS:   123456 kB").
    public static func parse(status text: String) -> ResidentMemory? {
        func kilobytes(_ key: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        guard let current = kilobytes("VmRSS"), let peak = kilobytes("VmHWM") else { return nil }
        return ResidentMemory(current: current * 1024, peak: peak * 1024)
    }

    /// "41.2 MiB (peak 57.9 MiB)".
    public var description: String {
        String(format: "%.1f MiB (peak %.1f MiB)", Double(current) / 1_048_576, Double(peak) / 1_048_576)
    }
}
