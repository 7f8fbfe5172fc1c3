import Synchronization

/// When each of the agent's loops last went round (the analysis loop, the capture
/// thread), so that a watchdog can vouch for them: a loop stuck in a hung ioctl, a
/// deadlock or an endless computation stops beating, and then nobody says it is alive.
public final class LoopLiveness: Sendable {
    /// A loop that has not gone round for this long counts as stuck.
    public let allowedSilence: Double
    private let lastBeats = Mutex<[String: Double]>([:])
    private let clock: @Sendable () -> Double

    /// `clock`: monotonic seconds (the default is the system's uptime clock).
    public init(allowedSilence: Double, clock: @escaping @Sendable () -> Double = LoopLiveness.monotonicSeconds) {
        self.allowedSilence = allowedSilence
        self.clock = clock
    }

    /// Says that the named loop just went round.
    public func beat(_ loop: String) {
        let now = clock()
        lastBeats.withLock { $0[loop] = now }
    }

    /// Forgets a loop that has ended on purpose (it is not stuck).
    public func ended(_ loop: String) {
        _ = lastBeats.withLock { $0.removeValue(forKey: loop) }
    }

    /// The loops silent for longer than allowed, with how long, longest first; empty
    /// while every loop that has beaten is alive.
    public func stuckLoops() -> [(loop: String, silentFor: Double)] {
        let now = clock()
        return lastBeats.withLock { beats in
            beats.map { (loop: $0.key, silentFor: now - $0.value) }
        }
        .filter { $0.silentFor > allowedSilence }
        .sorted { $0.silentFor > $1.silentFor }
    }

    /// True while at least one loop has beaten and none is stuck.
    public var isAlive: Bool {
        lastBeats.withLock { !$0.isEmpty } && stuckLoops().isEmpty
    }

    public static let monotonicSeconds: @Sendable () -> Double = {
        let now = ContinuousClock.now - ContinuousClock.Instant.zeroForLiveness
        return Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18
    }
}

extension ContinuousClock.Instant {
    /// A fixed origin for turning instants into seconds.
    fileprivate static let zeroForLiveness = ContinuousClock.now
}
