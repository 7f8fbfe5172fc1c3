import EdgeCensusAgent
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusRuntime
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// The whole loop on the composed sample video (etc/samples/walkers.mp4): six
/// people walk past, linger, cross and leave, as walkers.json says.
@Suite("Agent loop on the sample video", .tags(.slow), .serialized)
struct AgentLoopTests {
    struct Truth: Decodable {
        struct Person: Decodable { var gender: String; var enters: Double; var leaves: Double }
        var seconds: Double
        var people: [Person]
    }

    static let start = 1_767_258_000.0  // 2026-01-01T09:00:00Z, on a window boundary

    static func run(stateDirectory: String, windowLength: Double = 20) throws -> [CountWindow] {
        var configuration = AgentConfiguration()
        configuration.detection.border = 0
        let pipeline = try configuration.makePipeline(modelsOverride: TestPaths.models)
        let source = try VideoFileSource(path: TestPaths.samples + "/walkers.mp4", realtime: false)
        var throttle = ThrottleSettings()
        throttle.maxRateHz = 2
        let settings = AgentLoopSettings(
            device: "test", windowLength: windowLength, kAnonymity: 0, throttle: throttle,
            tracking: TrackingSettings(), motion: MotionSettings(), pacing: .recording(start: start))
        let windows = Collected()
        let loop = AgentLoop(
            pipeline: pipeline, source: source, settings: settings,
            sequence: SequenceStore(path: stateDirectory + "/sequence", now: 0),
            emit: { windows.append($0) })
        try loop.run(until: StopRequest())
        return windows.items
    }

    @Test("per window, the people counted and their genders match the ground truth")
    func countsMatchTruth() throws {
        let truthData = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/walkers.json"))
        let truth = try JSONDecoder().decode(Truth.self, from: truthData)
        let directory = try TemporaryDirectory()
        let windows = try Self.run(stateDirectory: directory.path)
        #expect(windows.count == 3)
        #expect(windows.map(\.partial) == [false, false, true])
        // A person is counted in the window in which they leave (or at the end, if still there).
        for window in windows {
            let from = window.start - Self.start, to = window.end - Self.start
            let leaving = truth.people.filter {
                min($0.leaves, truth.seconds) >= from && min($0.leaves, truth.seconds) < to
                    || (window.partial && $0.leaves >= truth.seconds)
            }
            #expect(window.people == leaving.count, "window \(from)–\(to) s")
            #expect(
                window.gender[.male, default: 0] == leaving.filter { $0.gender == "male" }.count,
                "males \(from)–\(to) s")
            #expect(
                window.gender[.female, default: 0] == leaving.filter { $0.gender == "female" }.count,
                "females \(from)–\(to) s")
            // The rate cap holds on the recording's own clock: 2 per second at most.
            #expect(Double(window.framesAnalysed) <= (window.end - window.start) * 2 + 1)
            #expect(window.framesAnalysed > 0)
        }
        #expect(windows.map(\.sequence) == [1, 2, 3])
    }

    @Test("a second run continues the sequence numbers")
    func sequenceContinues() throws {
        let directory = try TemporaryDirectory()
        _ = try Self.run(stateDirectory: directory.path, windowLength: 30)
        let second = try Self.run(stateDirectory: directory.path, windowLength: 30)
        #expect(second.map(\.sequence) == [3, 4])
    }
}

/// Windows collected from the loop's callback.
final class Collected: @unchecked Sendable {
    // @unchecked: appended to under the lock only.
    private let lock = NSLock()
    private var stored: [CountWindow] = []
    func append(_ window: CountWindow) { lock.withLock { stored.append(window) } }
    var items: [CountWindow] { lock.withLock { stored } }
}
