import EdgeCensusMotion
import Testing

/// When the face detector runs: the gate's decisions at the moments the throttle allows.
@Suite("The analysis gate")
struct AnalysisGateTests {
    /// Decides at 2 per second from `from` to `to` seconds.
    static func decide(
        _ gate: inout AnalysisGate, from: Double, to: Double, tracked: Int = 0, unsettled: Int = 0,
        motionAt: Set<Double> = []
    ) -> [Double: AnalysisGate.Decision] {
        var decisions: [Double: AnalysisGate.Decision] = [:]
        var time = from
        while time <= to + 1e-9 {
            gate.note(motion: motionAt.contains(time))
            decisions[time] = gate.decide(at: time, tracked: tracked, unsettled: unsettled, trackTimeout: 3)
            time += 0.5
        }
        return decisions
    }

    @Test("with motion.enabled false every allowed analysis runs")
    func ungated() {
        var settings = MotionSettings()
        settings.enabled = false
        var gate = AnalysisGate(settings: settings)
        let decisions = Self.decide(&gate, from: 0, to: 10)
        #expect(decisions.values.allSatisfy { $0 == .analyse(.ungated) })
        #expect(gate.figures.skipped == 0 && gate.figures.gatedShare == 0)
    }

    @Test("nothing moving and nobody tracked: the detector is skipped, but for a heartbeat every 30 s")
    func idle() {
        var gate = AnalysisGate(settings: MotionSettings())
        let decisions = Self.decide(&gate, from: 0, to: 90)
        let passes = decisions.filter { $0.value != .skip }.keys.sorted()
        #expect(passes == [0, 30, 60, 90])
        #expect(decisions[0] == .analyse(.heartbeat))
        #expect(
            gate.figures.idle && gate.figures.passes == 4 && gate.figures.skipped == 177, "the heartbeat leaves it idle"
        )
        #expect(abs(gate.figures.gatedShare - 87 / 90) < 0.02, "\(gate.figures.gatedShare)")
    }

    @Test("motion in any frame since the last decision runs the detector")
    func motionWakes() {
        var gate = AnalysisGate(settings: MotionSettings())
        _ = gate.decide(at: 0, tracked: 0, unsettled: 0, trackTimeout: 3)
        gate.note(motion: true)  // a frame between two decisions moved ...
        gate.note(motion: false)  // ... the next did not
        #expect(gate.decide(at: 0.5, tracked: 0, unsettled: 0, trackTimeout: 3) == .analyse(.motion))
        #expect(gate.decide(at: 1, tracked: 0, unsettled: 0, trackTimeout: 3) == .skip)
        #expect(gate.figures.idle)
    }

    @Test("while a tracked person is not settled, every allowed analysis runs")
    func unsettledPeople() {
        var gate = AnalysisGate(settings: MotionSettings())
        let decisions = Self.decide(&gate, from: 0, to: 5, tracked: 2, unsettled: 1)
        #expect(decisions.values.allSatisfy { $0 == .analyse(.unsettledPeople) || $0 == .analyse(.heartbeat) })
    }

    @Test("settled people who stand still are confirmed once a second, or within a third of tracking.track_timeout")
    func settledPeople() {
        var gate = AnalysisGate(settings: MotionSettings())
        let decisions = Self.decide(&gate, from: 0, to: 5, tracked: 1, unsettled: 0)
        #expect(decisions.filter { $0.value != .skip }.keys.sorted() == [0, 1, 2, 3, 4, 5])
        #expect(!gate.figures.idle, "a tracked person keeps the gate active, between the passes too")
        var short = AnalysisGate(settings: MotionSettings())
        var runs: [Double] = []
        var time = 0.0
        while time <= 3 {
            if short.decide(at: time, tracked: 1, unsettled: 0, trackTimeout: 1.5) != .skip { runs.append(time) }
            time += 0.25
        }
        #expect(runs == [0, 0.5, 1, 1.5, 2, 2.5, 3], "a track that times out after 1.5 s is seen every 0.5 s")
    }

    @Test("a change of settings applies from the next decision")
    func settingsChange() {
        var gate = AnalysisGate(settings: MotionSettings())
        _ = gate.decide(at: 0, tracked: 0, unsettled: 0, trackTimeout: 3)
        #expect(gate.decide(at: 0.5, tracked: 0, unsettled: 0, trackTimeout: 3) == .skip)
        gate.settings.enabled = false
        #expect(gate.decide(at: 1, tracked: 0, unsettled: 0, trackTimeout: 3) == .analyse(.ungated))
    }
}
