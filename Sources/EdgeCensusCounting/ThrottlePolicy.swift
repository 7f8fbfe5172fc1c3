/// What the throttle reads: a monotonic clock, the process's own CPU time, and
/// (where the board has one) a temperature. Real implementations read the
/// system; tests give fakes.
public protocol ThrottleInputs {
    /// Seconds on a monotonic clock.
    func now() -> Double
    /// Seconds of CPU this process has used (user + system, all threads).
    func processCPUTime() -> Double
    /// The SoC temperature in °C, or nil where the board does not report one.
    func temperature() -> Double?
}

/// The throttle's settings.
public struct ThrottleSettings: Sendable, Equatable {
    /// At most this many analyses per second; frames in between are dropped.
    public var maxRateHz: Double = 2
    /// Analyses may use at most this percentage of one core, averaged over time.
    public var cpuBudgetPercent: Double = 80
    /// Above this temperature (°C) the rate is halved, and halved again for every
    /// further 5 °C, down to one analysis every 10 s.
    public var temperatureLimit: Double = 75
    public init() {}
}

/// Decides whether the next frame is analysed. Inference runs at most at
/// `maxRateHz`, and after an analysis that took `c` seconds of CPU the next one
/// waits at least `c / budget`, so that over time analysis uses no more than the
/// budget of one core whatever the board's speed. Above the temperature limit the
/// interval grows. Frames that arrive while the throttle says no are dropped, not
/// queued: the counts want the present, not a backlog.
public struct ThrottlePolicy {
    public var settings: ThrottleSettings
    private var nextAllowed = -Double.infinity
    private var started: (time: Double, cpu: Double)?
    /// Analyses in the last few seconds, for the effective rate.
    private var recent: [Double] = []

    public init(settings: ThrottleSettings) {
        self.settings = settings
    }

    /// Whether a frame arriving now should be analysed. Call `begin` and `end`
    /// around the analysis when it says yes.
    public func shouldAnalyse(at time: Double) -> Bool { time >= nextAllowed - 1e-6 }  // µs slack for rounding

    public mutating func begin(at time: Double, cpu: Double) {
        started = (time, cpu)
        recent.append(time)
        recent.removeAll { $0 < time - 10 }
    }

    /// Records the analysis's cost and schedules the earliest next one.
    public mutating func end(at time: Double, cpu: Double, temperature: Double?) {
        guard let started else { return }
        self.started = nil
        var interval = 1 / max(settings.maxRateHz, 0.001)
        let cpuUsed = max(0, cpu - started.cpu)
        let budget = max(settings.cpuBudgetPercent, 1) / 100
        interval = max(interval, cpuUsed / budget)
        if let temperature, temperature > settings.temperatureLimit {
            let steps = 1 + Int((temperature - settings.temperatureLimit) / 5)
            interval = max(interval, min(interval * pow2(steps), 10))
        }
        nextAllowed = started.time + interval
    }

    /// Records that an analysis the throttle allowed at `time` was not needed (the
    /// motion gate skipped it): the next chance comes one rate interval later, and
    /// no CPU was spent.
    public mutating func skip(at time: Double) {
        nextAllowed = time + 1 / max(settings.maxRateHz, 0.001)
    }

    /// The minimum interval the throttle imposes on top of the rate cap right now.
    public var nextAnalysisTime: Double { nextAllowed }

    /// Analyses per second over the last 10 s (or since the first analysis).
    public func effectiveRate(at time: Double) -> Double {
        let window = recent.filter { $0 > time - 10 }
        guard let first = window.first, window.count > 1 else { return 0 }
        return Double(window.count - 1) / max(time - first, 1e-9)
    }

    private func pow2(_ n: Int) -> Double { Double(1 << min(n, 10)) }
}
