import EdgeCensusAgent
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusRuntime
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Synchronization
import Testing

/// A source that says how many frames it delivered and whether it was closed.
final class WatchedSource: FrameSource, @unchecked Sendable {
    // @unchecked: read by the test only after the loop has stopped, or through atomics.
    let inner: any FrameSource
    private let deliveredCount = Atomic(0)
    private let closedFlag = Atomic(false)
    var delivered: Int { deliveredCount.load(ordering: .sequentiallyConsistent) }
    var closed: Bool { closedFlag.load(ordering: .sequentiallyConsistent) }
    init(_ inner: any FrameSource) { self.inner = inner }
    var description: String { "watched \(inner.description)" }
    func nextFrame() throws(CaptureError) -> Frame? {
        let frame = try inner.nextFrame()
        if frame != nil { deliveredCount.add(1, ordering: .sequentiallyConsistent) }
        return frame
    }
    func close() {
        closedFlag.store(true, ordering: .sequentiallyConsistent)
        inner.close()
    }
}

@Suite("Agent loop changed while it runs", .tags(.slow), .serialized)
struct LiveChangesTests {
    @Test("the capture reopens on a new source without losing the current window; a lower rate cap takes over")
    func reopenAndRetune() async throws {
        var configuration = AgentConfiguration()
        configuration.detection.border = 0
        let pipeline = try configuration.makePipeline(modelsOverride: TestPaths.models)
        let first = WatchedSource(try VideoFileSource(path: TestPaths.samples + "/walkers.mp4", realtime: true))
        var throttle = ThrottleSettings()
        throttle.maxRateHz = 4
        // The rate caps are what is measured here: the motion gate is off.
        var ungated = MotionSettings()
        ungated.enabled = false
        // One window throughout, whatever the time of day.
        let windowLength = WallClockWindow.length(noBoundaryWithin: 120)
        let settings = AgentLoopSettings(
            device: "test", windowLength: windowLength, kAnonymity: 0, throttle: throttle,
            tracking: TrackingSettings(), motion: ungated, pacing: .live)
        let directory = try TemporaryDirectory()
        let windows = Collected()
        let loop = AgentLoop(
            pipeline: pipeline, source: first, settings: settings,
            sequence: SequenceStore(path: directory.file("sequence"), now: 0), emit: { windows.append($0) })
        let stop = StopRequest()
        let running = Thread { try? loop.run(until: stop) }
        let started = Date()
        running.start()
        try await Task.sleep(for: .seconds(2))
        let second = WatchedSource(try VideoFileSource(path: TestPaths.samples + "/walkers.mp4", realtime: true))
        loop.replaceSource(with: second)
        var slower = throttle
        slower.maxRateHz = 1
        loop.update(
            LiveSettings(throttle: slower, tracking: TrackingSettings(), motion: ungated, windowLength: windowLength))
        let changed = Date()
        try await Task.sleep(for: .seconds(3))
        stop.request()
        let stopped = Date()
        while !windows.items.contains(where: \.partial) { try await Task.sleep(for: .milliseconds(50)) }

        #expect(first.closed)
        #expect(first.delivered > 10)
        #expect(second.delivered > 10)
        #expect(second.closed)
        // One window throughout: nothing closed or lost when the capture reopened.
        let emitted = windows.items
        #expect(emitted.map(\.sequence) == [1])
        #expect(emitted.first.map { $0.framesAnalysed >= 8 } == true, "\(emitted.map(\.framesAnalysed))")
        // The caps are maxima (a loaded machine analyses less, never more): 4/s, then 1/s.
        let most =
            Int(
                (changed.timeIntervalSince(started) * 4).rounded(.up)
                    + (stopped.timeIntervalSince(changed) * 1).rounded(.up)) + 2
        #expect(
            emitted.first.map { $0.framesAnalysed <= most } == true,
            "\(emitted.map(\.framesAnalysed)) analyses, at most \(most) allowed")
    }
}

@Suite("Test support: one wall-clock window throughout")
struct WallClockWindowTests {
    @Test("a length with no boundary in the next seconds: an hour, unless the hour ends within them")
    func noBoundary() {
        #expect(WallClockWindow.length(noBoundaryWithin: 60, from: 36_000 + 100) == 3600)
        let length = WallClockWindow.length(noBoundaryWithin: 60, from: 36_000 - 2)  // 09:59:58
        #expect(length > 3600)
        #expect(((36_000 - 2) / length).rounded(.down) == ((36_000 + 58) / length).rounded(.down))
    }
}
