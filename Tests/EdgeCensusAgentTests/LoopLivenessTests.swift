import EdgeCensusAgent
import Synchronization
import Testing

@Suite("Loop liveness: which of the agent's loops have stopped going round")
struct LoopLivenessTests {
    final class FakeClock: Sendable {
        let now = Mutex(100.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    @Test("no loop has beaten yet: not alive (nothing to vouch for), and nothing stuck")
    func beforeTheFirstBeat() {
        let liveness = LoopLiveness(allowedSilence: 45)
        #expect(!liveness.isAlive)
        #expect(liveness.stuckLoops().isEmpty)
    }

    @Test("a loop silent for longer than allowed is stuck, the longest first; a new beat makes it alive again")
    func stuckAndBack() {
        let clock = FakeClock()
        let liveness = LoopLiveness(allowedSilence: 45, clock: { clock.now.withLock { $0 } })
        liveness.beat("analysis")
        liveness.beat("capture")
        clock.advance(30)
        liveness.beat("analysis")
        #expect(liveness.isAlive)
        clock.advance(16)  // capture silent 46 s, analysis 16 s
        #expect(liveness.stuckLoops().map(\.loop) == ["capture"])
        #expect(liveness.stuckLoops().first?.silentFor == 46)
        #expect(!liveness.isAlive)
        clock.advance(30)  // capture 76 s, analysis 46 s
        #expect(liveness.stuckLoops().map(\.loop) == ["capture", "analysis"])
        liveness.beat("capture")
        liveness.beat("analysis")
        #expect(liveness.isAlive)
    }

    @Test("a loop that ended on purpose (the source finished) is not stuck")
    func endedOnPurpose() {
        let clock = FakeClock()
        let liveness = LoopLiveness(allowedSilence: 45, clock: { clock.now.withLock { $0 } })
        liveness.beat("analysis")
        liveness.beat("capture")
        liveness.ended("capture")
        clock.advance(40)
        liveness.beat("analysis")
        clock.advance(40)
        #expect(liveness.isAlive)
    }
}
