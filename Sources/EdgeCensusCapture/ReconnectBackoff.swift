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
