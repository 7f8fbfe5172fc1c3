public import EdgeCensusVisionTypes
import Foundation

/// The counts of one time window: how many people left the view in it, by
/// gender, age group and both, how long they stayed, and how many frames were
/// analysed. Only these aggregates leave the agent.
public struct CountWindow: Sendable, Equatable {
    public var sequence: UInt64
    /// The numbering `sequence` belongs to (see `WindowNumber`): `(device, epoch, sequence)`
    /// is unique. All zeros for a window no `SequenceStore` numbered (tests, benchmarks).
    public var epoch = "0000000000000000"
    /// Unix seconds; windows are aligned to the wall clock (a 60 s window starts on the minute).
    public var start: Double
    public var end: Double
    public var people = 0
    /// People by gender; the nil key counts those whose gender is unknown.
    public var gender: [Gender?: Int] = [:]
    /// People by age group; the nil key counts those whose age group is unknown.
    public var ageGroups: [AgeGroup?: Int] = [:]
    public var genderAge: [Gender?: [AgeGroup?: Int]] = [:]
    /// Seconds each counted person stayed in view.
    public var dwells: [Double] = []
    public var framesAnalysed = 0
    /// Frames captured but not analysed (the throttle's drops).
    public var framesDropped = 0
    /// People in view when the window closed (counted later, when they leave).
    public var inView = 0
    /// True when the agent did not watch the whole window: the first window after a
    /// start in the middle of it (`start` is still the aligned start; watching began
    /// later), and the last window of a run, closed early by shutdown (`end` is then
    /// the shutdown time). A window can be both.
    public var partial = false

    public init(sequence: UInt64, start: Double, end: Double) {
        self.sequence = sequence
        self.start = start
        self.end = end
    }

    mutating func number(_ number: WindowNumber) {
        sequence = number.sequence
        epoch = number.epoch
    }

    public mutating func add(_ visit: PersonVisit) {
        people += 1
        gender[visit.gender, default: 0] += 1
        ageGroups[visit.ageGroup, default: 0] += 1
        genderAge[visit.gender, default: [:]][visit.ageGroup, default: 0] += 1
        dwells.append(visit.dwell)
    }
}

/// Collects visits and frames into wall-clock-aligned windows, numbering each
/// window from a sequence that survives restarts. A window gets its number when it
/// closes, so a window lost with the process (a crash, a power cut, a watchdog
/// kill) leaves no gap: the numbers a dashboard sees go on one by one.
public struct WindowAggregator {
    /// Seconds per window; a change applies from the next window on.
    public private(set) var length: Double
    private var current: CountWindow
    private let nextNumber: () throws -> WindowNumber
    /// Times of dropped frames that fall after the current window (its end not yet reached by `advance`).
    private var laterDrops: [Double] = []

    /// `nextNumber` hands out the window numbers (persisted by `SequenceStore`),
    /// one per closed window.
    public init(length: Double, startingAt time: Double, nextNumber: @escaping () throws -> WindowNumber) throws {
        precondition(length > 0, "a window has a positive length")
        self.length = length
        self.nextNumber = nextNumber
        let start = (time / length).rounded(.down) * length
        current = CountWindow(sequence: 0, start: start, end: start + length)
        // Started after the window's aligned start: the seconds before were not watched.
        current.partial = time > start + length * 1e-9
    }

    /// The open window (its `sequence` is 0: it is numbered when it closes).
    public var currentWindow: CountWindow { current }

    /// Closes every window that ended at or before `time` (empty ones included, so
    /// a dashboard sees zeros rather than silence) and returns them in order.
    public mutating func advance(to time: Double, inView: Int) throws -> [CountWindow] {
        var closed: [CountWindow] = []
        while time >= current.end {
            current.inView = inView
            current.number(try nextNumber())
            closed.append(current)
            let start = current.end
            current = CountWindow(sequence: 0, start: start, end: Self.alignedEnd(after: start, length: length))
            let now = laterDrops.partition { $0 >= current.end }
            current.framesDropped += now
            laterDrops.removeFirst(now)
        }
        return closed
    }

    /// A new length for the windows after the current one. The next window starts
    /// where the current one ends and runs to the next multiple of the new length
    /// (it may be shorter, once), so windows stay aligned to the wall clock.
    public mutating func changeLength(to length: Double) {
        precondition(length > 0, "a window has a positive length")
        self.length = length
    }

    static func alignedEnd(after start: Double, length: Double) -> Double {
        let end = ((start / length).rounded(.down) + 1) * length
        return end > start + length * 1e-9 ? end : end + length
    }

    public mutating func add(_ visit: PersonVisit) { current.add(visit) }
    public mutating func frameAnalysed() { current.framesAnalysed += 1 }
    public mutating func frameDropped() { current.framesDropped += 1 }
    /// Frames dropped at these times, each counted in the window it falls in: the
    /// current one, or one that `advance` opens later (before the time reaches it).
    public mutating func framesDropped(at times: [Double]) {
        for time in times {
            if time < current.end { current.framesDropped += 1 } else { laterDrops.append(time) }
        }
    }

    /// Closes the current window early (shutdown): marked partial, ending now.
    public mutating func flush(at time: Double, inView: Int) throws -> CountWindow {
        var last = current
        last.number(try nextNumber())
        last.end = max(last.start, min(time, last.end))
        last.partial = true
        last.inView = inView
        return last
    }
}
