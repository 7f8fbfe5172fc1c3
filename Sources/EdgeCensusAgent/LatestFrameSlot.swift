public import EdgeCensusCapture
import Foundation
import Synchronization

/// A one-frame mailbox between the capture thread and the analysis thread: a new
/// frame replaces one not yet taken (which is counted as dropped), so capture
/// never waits for inference and inference always sees the newest frame. It also
/// remembers whether any frame put since the last take showed motion, so that a
/// moving frame replaced before it was taken still wakes the detector.
public final class LatestFrameSlot: @unchecked Sendable {
    // @unchecked: every stored property is read and written under `condition`'s lock.
    private let condition = NSCondition()
    private var frame: Frame?
    private var finished = false
    private var droppedAt: [Double] = []
    private var motionSinceTake = false

    public enum Taken {
        /// The newest frame, and whether it or any frame it replaced showed motion.
        case frame(Frame, motion: Bool)
        case timedOut
        case finished
    }

    public init() {}

    /// `time`: now, by the loop's clock (a replaced frame is dropped at that time).
    /// `motion`: whether the frame's motion check saw motion (true when none ran).
    public func put(_ newFrame: Frame, at time: Double, motion: Bool = true) {
        condition.lock()
        if frame != nil { droppedAt.append(time) }
        frame = newFrame
        motionSinceTake = motionSinceTake || motion
        condition.signal()
        condition.unlock()
    }

    /// Marks the end of the source: `take` returns `.finished` once the last frame is taken.
    public func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    public func take(waitingUpTo seconds: Double) -> Taken {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while frame == nil && !finished {
            if !condition.wait(until: deadline) { break }
        }
        if let taken = frame {
            frame = nil
            defer { motionSinceTake = false }
            return .frame(taken, motion: motionSinceTake)
        }
        return finished ? .finished : .timedOut
    }

    /// When each frame replaced before it was taken was dropped, since the last call.
    /// The times let a frame dropped during a long analysis be counted in the window
    /// it was dropped in, not in the one open when the analysis ends.
    public func drainDropped() -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let times = droppedAt
        droppedAt = []
        return times
    }
}
