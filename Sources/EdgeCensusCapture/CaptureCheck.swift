import Foundation

/// Takes a few frames from a source to show that it works and how fast it
/// delivers: what `edgecensus cameras check` reports. Frames are handed to the
/// caller one by one and not kept.
public enum CaptureCheck {
    public struct Result: Sendable, Equatable {
        /// Frames delivered and converted.
        public var frames: Int
        /// Seconds from the start until the first frame (opening and negotiating included).
        public var firstFrameAfter: Double?
        /// Seconds from the first frame to the last.
        public var streamingSeconds: Double
        /// Frames per second between the first frame and the last.
        public var measuredRate: Double? {
            frames > 1 && streamingSeconds > 0 ? Double(frames - 1) / streamingSeconds : nil
        }
        /// Each different problem met on the way, in order (the source kept trying).
        public var problems: [String]
        /// The time limit ended the check before all frames came.
        public var timedOut: Bool
    }

    /// Reads `frames` frames, or until `timeLimit` seconds have passed.
    public static func run(
        _ source: any FrameSource, frames wanted: Int, timeLimit: Double,
        clock: () -> Double = CaptureCheck.uptime,
        onFrame: (Frame) -> Void = { _ in }
    ) -> Result {
        let start = clock()
        var result = Result(frames: 0, firstFrameAfter: nil, streamingSeconds: 0, problems: [], timedOut: false)
        var first: Double?
        while result.frames < wanted {
            guard clock() - start < timeLimit else {
                result.timedOut = true
                break
            }
            do {
                guard let frame = try source.nextFrame() else { break }
                let now = clock()
                if first == nil {
                    first = now
                    result.firstFrameAfter = now - start
                }
                result.frames += 1
                result.streamingSeconds = now - (first ?? now)
                onFrame(frame)
            } catch {
                let problem = "\(error)"
                if result.problems.last != problem { result.problems.append(problem) }
            }
        }
        return result
    }

    /// Seconds since boot: the clock frames are timed with.
    public static func uptime() -> Double { ProcessInfo.processInfo.systemUptime }
}
