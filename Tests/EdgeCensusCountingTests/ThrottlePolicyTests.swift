import EdgeCensusCounting
import Testing

@Suite("Throttle")
struct ThrottlePolicyTests {
    static func settings(rate: Double = 2, budget: Double = 100, limit: Double = 75) -> ThrottleSettings {
        var settings = ThrottleSettings()
        settings.maxRateHz = rate
        settings.cpuBudgetPercent = budget
        settings.temperatureLimit = limit
        return settings
    }

    /// Offers a frame every `step` seconds for `duration` seconds; each analysis costs `cpu` seconds of CPU.
    static func analysedTimes(
        _ throttle: inout ThrottlePolicy, step: Double, duration: Double, cpu: Double,
        temperature: Double? = nil
    ) -> [Double] {
        var analysed: [Double] = []
        var cpuClock = 0.0
        var index = 0
        while Double(index) * step < duration {
            let time = Double(index) * step
            index += 1
            if throttle.shouldAnalyse(at: time) {
                throttle.begin(at: time, cpu: cpuClock)
                cpuClock += cpu
                throttle.end(at: time + cpu, cpu: cpuClock, temperature: temperature)
                analysed.append(time)
            }
        }
        return analysed
    }

    @Test("frames faster than the rate cap are dropped: 30 fps in, 2 analyses per second out")
    func rateCap() {
        var throttle = ThrottlePolicy(settings: Self.settings(rate: 2))
        let analysed = Self.analysedTimes(&throttle, step: 1.0 / 30, duration: 10, cpu: 0.01)
        #expect(analysed.count == 20)
        for (a, b) in zip(analysed, analysed.dropFirst()) { #expect(b - a >= 0.5 - 1e-9) }
    }

    @Test("the CPU budget stretches the interval: 0.3 s of CPU per analysis at 50 % of a core → one every 0.6 s")
    func cpuBudget() {
        var throttle = ThrottlePolicy(settings: Self.settings(rate: 10, budget: 50))
        let analysed = Self.analysedTimes(&throttle, step: 0.01, duration: 6, cpu: 0.3)
        #expect(analysed.count == 10)
        let used = Double(analysed.count) * 0.3 / 6
        #expect(used <= 0.5 + 1e-9, "CPU share \(used)")
    }

    @Test("above the temperature limit the rate halves, and halves again every 5 °C")
    func thermal() {
        var cool = ThrottlePolicy(settings: Self.settings(rate: 4))
        var warm = ThrottlePolicy(settings: Self.settings(rate: 4))
        var hot = ThrottlePolicy(settings: Self.settings(rate: 4))
        #expect(Self.analysedTimes(&cool, step: 0.01, duration: 10, cpu: 0.01, temperature: 70).count == 40)
        #expect(Self.analysedTimes(&warm, step: 0.01, duration: 10, cpu: 0.01, temperature: 76).count == 20)
        #expect(Self.analysedTimes(&hot, step: 0.01, duration: 10, cpu: 0.01, temperature: 81).count == 10)
    }

    @Test("the effective rate is what was analysed, not what was asked")
    func effectiveRate() {
        var throttle = ThrottlePolicy(settings: Self.settings(rate: 10, budget: 25))
        let analysed = Self.analysedTimes(&throttle, step: 0.01, duration: 10, cpu: 0.1)
        #expect(abs(throttle.effectiveRate(at: analysed.last!) - 2.5) < 0.2)
    }
}
