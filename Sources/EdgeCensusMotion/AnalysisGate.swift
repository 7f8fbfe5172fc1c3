/// Decides, at each moment the throttle would allow an analysis, whether the face
/// detector runs. It runs:
/// - always, with `motion.enabled: false`;
/// - when any frame since the last decision showed motion;
/// - while a person is tracked whose answers are not settled yet, at the full rate
///   (their votes are still being gathered, as without the gate);
/// - while only settled people are tracked, at least every `confirmInterval` (at most
///   a third of `tracking.track_timeout`), so that someone who stands still is still
///   seen and stays one person;
/// - at least every `heartbeatSeconds` whatever the motion, so that a face the motion
///   check cannot see (someone who was there, still, before the agent started) is
///   found within that time.
/// Otherwise the pass is skipped: only the motion check ran.
public struct AnalysisGate: Sendable {
    public enum Reason: String, Sendable, Equatable {
        case ungated, motion, unsettledPeople = "unsettled people", confirming, heartbeat
    }

    public enum Decision: Sendable, Equatable {
        case analyse(Reason)
        case skip
    }

    /// Settled people are confirmed at least this often (seconds).
    public static let confirmInterval = 1.0
    /// A detector pass at least this often (seconds), whatever the motion.
    public static let heartbeatSeconds = 30.0

    /// What the gate has done since the agent started.
    public struct Figures: Sendable, Equatable {
        /// Detector passes run, and passes the gate skipped (each would have run without it).
        public var passes = 0
        public var skipped = 0
        /// Seconds spent gated (only the motion check running), and seconds observed.
        public var gatedSeconds = 0.0
        public var observedSeconds = 0.0
        /// Idle: nothing moved and nobody was tracked at the last decision, so only the
        /// motion check runs (and the heartbeat). A still, tracked person keeps it active.
        public var idle = false
        /// The share of the time spent gated (0 when nothing was observed yet).
        public var gatedShare: Double { observedSeconds > 0 ? gatedSeconds / observedSeconds : 0 }
        /// The share of the passes the gate saved.
        public var savedShare: Double { passes + skipped > 0 ? Double(skipped) / Double(passes + skipped) : 0 }
        public init() {}
    }

    public var settings: MotionSettings
    public private(set) var figures = Figures()
    private var motionSinceDecision = false
    private var lastPass = -Double.infinity
    private var lastDecision: Double?

    public init(settings: MotionSettings) {
        self.settings = settings
    }

    /// Notes whether a frame showed motion (every frame between two decisions, or,
    /// for a live source, whether any frame since the last decision did).
    public mutating func note(motion: Bool) {
        if motion { motionSinceDecision = true }
    }

    /// Decides at `time`, given the people tracked now.
    public mutating func decide(at time: Double, tracked: Int, unsettled: Int, trackTimeout: Double) -> Decision {
        let elapsed = lastDecision.map { max(0, time - $0) } ?? 0
        lastDecision = time
        figures.observedSeconds += elapsed
        let motion = motionSinceDecision
        motionSinceDecision = false
        let reason: Reason?
        if !settings.enabled {
            reason = .ungated
        } else if motion {
            reason = .motion
        } else if unsettled > 0 {
            reason = .unsettledPeople
        } else if tracked > 0 && time - lastPass >= min(Self.confirmInterval, trackTimeout / 3) - 1e-6 {
            reason = .confirming
        } else if time - lastPass >= Self.heartbeatSeconds - 1e-6 {
            reason = .heartbeat
        } else {
            reason = nil
        }
        guard let reason else {
            figures.skipped += 1
            figures.gatedSeconds += elapsed
            figures.idle = tracked == 0
            return .skip
        }
        figures.passes += 1
        // A heartbeat leaves an idle gate idle unless it finds someone (then a track runs).
        if reason != .heartbeat { figures.idle = false }
        lastPass = time
        return .analyse(reason)
    }
}
