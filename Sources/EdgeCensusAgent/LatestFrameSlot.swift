public import EdgeCensusCapture
import Foundation
import Synchronization

/// A one-frame mailbox between the capture thread and the analysis thread: a new
/// frame replaces one not yet taken (which is counted as dropped), so capture
/// never waits for inference and inference always sees the newest frame.
public final class LatestFrameSlot: @unchecked Sendable {
    // @unchecked: every stored property is read and written under `condition`'s lock.
    private let condition = NSCondition()
    private var frame: Frame?
    private var finished = false
    private var dropped = 0

    public enum Taken {
        case frame(Frame)
        case timedOut
        case finished
    }

    public init() {}

    public func put(_ newFrame: Frame) {
        condition.lock()
        if frame != nil { dropped += 1 }
        frame = newFrame
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
            return .frame(taken)
        }
        return finished ? .finished : .timedOut
    }

    /// Frames replaced before they were taken since the last call.
    public func drainDropped() -> Int {
        condition.lock()
        defer { condition.unlock() }
        let count = dropped
        dropped = 0
        return count
    }
}
