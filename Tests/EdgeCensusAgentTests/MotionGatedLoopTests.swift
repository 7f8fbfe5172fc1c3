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

/// The agent with the motion gate against the same agent without it, on the sample
/// videos: the day-like one (etc/samples/day.mp4: six people in six minutes of a
/// noisy, empty corridor with lighting changes), walkers.mp4 and varied.mp4.
@Suite("Agent loop gated by motion", .tags(.slow), .serialized)
struct MotionGatedLoopTests {
    static let start = 1_767_258_000.0  // 2026-01-01T09:00:00Z, on a window boundary

    struct Run {
        var windows: [CountWindow]
        var gate: AnalysisGate.Figures
        var passes: Int { windows.reduce(0) { $0 + $1.framesAnalysed } }
        var people: Int { windows.reduce(0) { $0 + $1.people } }
        /// What each window counted, dwell times aside (a settled person is confirmed
        /// once a second when gated, so their last sighting may differ by a fraction of one).
        var counted: [String] {
            windows.map { window in
                "\(window.sequence) \(window.start): \(window.people) people, gender \(window.gender.sorted { "\($0.key as Any)" < "\($1.key as Any)" }), "
                    + "ages \(window.ageGroups.sorted { "\($0.key as Any)" < "\($1.key as Any)" }), in view \(window.inView)"
            }
        }
    }

    /// Runs the loop on a thread of its own: a whole recording takes tens of seconds of
    /// CPU, which must not hold one of the two threads every async test shares.
    static func run(_ video: String, motion enabled: Bool, windowLength: Double = 60) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runHere(video, motion: enabled, windowLength: windowLength) })
            }.start()
        }
    }

    static func runHere(_ video: String, motion enabled: Bool, windowLength: Double) throws -> Run {
        let configuration = AgentConfiguration()
        let pipeline = try configuration.makePipeline(modelsOverride: TestPaths.models, for: .frames)
        var motion = configuration.motion
        motion.enabled = enabled
        let settings = AgentLoopSettings(
            device: "test", windowLength: windowLength, kAnonymity: 0, throttle: configuration.throttle,
            tracking: configuration.trackingSettings, motion: motion, pacing: .recording(start: start))
        let directory = try TemporaryDirectory()
        let windows = Collected()
        let loop = AgentLoop(
            pipeline: pipeline, source: try VideoFileSource(path: TestPaths.samples + "/" + video, realtime: false),
            settings: settings, sequence: SequenceStore(path: directory.file("sequence"), now: 0),
            emit: { windows.append($0) })
        try loop.run(until: StopRequest())
        return Run(windows: windows.items, gate: loop.motionGate)
    }

    struct DayTruth: Decodable {
        struct Person: Decodable { var gender: String; var enters: Double; var leaves: Double }
        var seconds: Double
        var people_in_view_share: Double
        var people: [Person]
    }

    @Test(
        "on the day-like video the gated agent counts exactly what the ungated one counts, with at most a quarter of its detector passes"
    )
    func dayVideo() async throws {
        let truth = try JSONDecoder().decode(
            DayTruth.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/day.json")))
        #expect(truth.people_in_view_share <= 0.2)
        let ungated = try await Self.run("day.mp4", motion: false)
        let gated = try await Self.run("day.mp4", motion: true)
        #expect(gated.counted == ungated.counted)
        // Everyone is counted once, the one who stood still for 16 s included.
        #expect(gated.people == truth.people.count)
        #expect(
            gated.windows.reduce(0) { $0 + $1.gender[.female, default: 0] }
                == truth.people.filter { $0.gender == "female" }.count)
        #expect(
            Double(gated.passes) <= 0.25 * Double(ungated.passes),
            "\(gated.passes) passes gated, \(ungated.passes) ungated")
        #expect(gated.gate.gatedShare > 0.7, "\(gated.gate)")
        #expect(gated.gate.passes == gated.passes && ungated.gate.skipped == 0)
    }

    @Test("on the sample videos the counts are identical, gated or not", arguments: ["walkers.mp4", "varied.mp4"])
    func sampleVideos(video: String) async throws {
        let ungated = try await Self.run(video, motion: false, windowLength: 20)
        let gated = try await Self.run(video, motion: true, windowLength: 20)
        #expect(gated.counted == ungated.counted)
        #expect(gated.people > 0)
        #expect(gated.passes <= ungated.passes)
    }

    @Test("live, an empty stretch runs only the motion check, and a person walking in wakes the detector")
    func live() async throws {
        let configuration = AgentConfiguration()
        let pipeline = try configuration.makePipeline(modelsOverride: TestPaths.models, for: .frames)
        // One window throughout (the loop stops within a minute, a loaded machine's included).
        let settings = AgentLoopSettings(
            device: "test", windowLength: WallClockWindow.length(noBoundaryWithin: 120), kAnonymity: 0,
            throttle: configuration.throttle,
            tracking: configuration.trackingSettings, motion: configuration.motion, pacing: .live)
        let directory = try TemporaryDirectory()
        let windows = Collected()
        // walkers.mp4 played as a camera: the corridor is empty for its first 2 s, then P1 walks
        // in. The gate's figures are read when the capture reaches 1.8 s of video (on the video's
        // clock, not the test's: a loaded machine may be late), and again at 6 s.
        let source = MarkedSource(
            try VideoFileSource(path: TestPaths.samples + "/walkers.mp4", realtime: true), marks: [1.8, 6])
        let loop = AgentLoop(
            pipeline: pipeline, source: source, settings: settings,
            sequence: SequenceStore(path: directory.file("sequence"), now: 0), emit: { windows.append($0) })
        let snapshots = Mutex<[AnalysisGate.Figures]>([])
        source.reached = { _ in snapshots.withLock { $0.append(loop.motionGate) } }
        let stop = StopRequest()
        let running = Thread { try? loop.run(until: stop) }
        running.start()
        let deadline = Date().addingTimeInterval(60)
        while snapshots.withLock({ $0.count }) < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        stop.request()
        while !windows.items.contains(where: \.partial) { try await Task.sleep(for: .milliseconds(50)) }
        let taken = snapshots.withLock { $0 }
        try #require(taken.count == 2)
        let (empty, walking) = (taken[0], taken[1])
        #expect(empty.passes <= 1, "the empty corridor: only the first frame is analysed: \(empty)")
        #expect(empty.skipped >= 1, "the empty corridor: \(empty)")
        #expect(walking.passes - empty.passes >= 3, "a person walking: \(walking)")
        #expect(windows.items.map(\.sequence) == [1])
        #expect(windows.items.reduce(0) { $0 + $1.framesAnalysed } >= walking.passes)
    }
}

/// A source that calls `reached` (on the capture thread) when it is about to deliver
/// the first frame at or after each of `marks` (seconds of the source's own time).
final class MarkedSource: FrameSource, @unchecked Sendable {
    // @unchecked: `reached` is set before the loop starts; the rest is used by the capture thread only.
    let inner: any FrameSource
    private var marks: [Double]
    var reached: (Double) -> Void = { _ in }
    init(_ inner: any FrameSource, marks: [Double]) {
        self.inner = inner
        self.marks = marks
    }
    var description: String { "marked \(inner.description)" }
    func nextFrame() throws(CaptureError) -> Frame? {
        let frame = try inner.nextFrame()
        if let frame, let next = marks.first, frame.time >= next {
            marks.removeFirst()
            reached(next)
        }
        return frame
    }
    func close() { inner.close() }
}
