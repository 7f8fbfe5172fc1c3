public import EdgeCensusCapture
public import EdgeCensusCounting
public import EdgeCensusLogging
public import EdgeCensusMotion
public import EdgeCensusVision
import Foundation
import Synchronization

/// How the loop relates capture to analysis.
public enum PacingMode: Sendable, Equatable {
    /// A live source (a camera, or a video played at its own rate): capture runs on
    /// its own thread and never waits for inference; analysis takes the newest
    /// frame when the throttle allows, and frames in between are dropped. Time is
    /// the wall clock.
    case live
    /// A recording analysed as fast as possible: every frame is offered to the
    /// throttle in order, and time is the recording's own (`start` + frame time),
    /// so the same file always gives the same windows.
    case recording(start: Double)
}

/// Everything the loop needs besides its parts.
public struct AgentLoopSettings: Sendable {
    public var device: String
    public var windowLength: Double
    public var kAnonymity: Int
    public var throttle: ThrottleSettings
    public var tracking: TrackingSettings
    public var motion: MotionSettings
    public var pacing: PacingMode

    public init(
        device: String, windowLength: Double, kAnonymity: Int, throttle: ThrottleSettings,
        tracking: TrackingSettings, motion: MotionSettings, pacing: PacingMode
    ) {
        self.device = device
        self.windowLength = windowLength
        self.kAnonymity = kAnonymity
        self.throttle = throttle
        self.tracking = tracking
        self.motion = motion
        self.pacing = pacing
    }
}

/// A request to stop, safe to set from a signal handler's queue.
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func request() { flag.store(true, ordering: .sequentiallyConsistent) }
    public var isRequested: Bool { flag.load(ordering: .sequentiallyConsistent) }
}

/// Frames → motion check → faces → tracks → windows. Runs until the source ends or
/// a stop is requested, then counts everyone still in view and emits the partial window.
///
/// Every frame goes through the motion check (`MotionDetector`, on the capture
/// thread of a live source); at each moment the throttle allows an analysis, the
/// `AnalysisGate` decides whether the face detector runs or the moment is skipped.
public final class AgentLoop: @unchecked Sendable {
    // @unchecked: `run` is called once, on one thread; the only state other threads
    // read (`figures`) is behind a Mutex, and the rest is immutable after init.
    private let pipeline: FacePipeline
    private let source: any FrameSource
    private let settings: AgentLoopSettings
    private let sequence: SequenceStore
    private let inputs: any ThrottleInputs
    private let emit: (CountWindow) -> Void
    private let logger: AgentLogger
    /// Where the loops say they went round (for the service's watchdog), if anyone asks.
    private let liveness: LoopLiveness?

    private let figures = Mutex((rate: 0.0, inference: Double?.none))
    private let sourceName: Mutex<String>
    /// The source frames come from now (it changes when the capture is reopened).
    public var sourceDescription: String { sourceName.withLock { $0 } }
    /// Settings changed while running, taken by the loop before its next step.
    private let pendingSettings = Mutex<LiveSettings?>(nil)
    /// A new source for the capture thread (a camera to reopen with new settings).
    private let pendingSource = Mutex<CaptureHandOver?>(nil)

    /// Analyses per second lately, for health reports (readable from any thread).
    public var effectiveRate: Double { figures.withLock { $0.rate } }
    /// How long the last analysis took, in seconds (nil before the first).
    public var lastInferenceSeconds: Double? { figures.withLock { $0.inference } }

    /// The motion settings for the capture thread's check (changed while running).
    private let motionSettings: Mutex<MotionSettings>
    private let gateFigures = Mutex(AnalysisGate.Figures())
    /// What the motion gate has done so far: passes run and skipped, time gated, idle now or not.
    public var motionGate: AnalysisGate.Figures { gateFigures.withLock { $0 } }
    /// Told when the agent goes idle (true: nothing moves, nobody is tracked) or active again.
    private let idleChanged: (@Sendable (Bool) -> Void)?

    private let work = Mutex(ClassificationWork())
    /// Faces classified, and faces not classified because their person was settled, so far.
    public var classificationWork: ClassificationWork { work.withLock { $0 } }

    public init(
        pipeline: FacePipeline, source: any FrameSource, settings: AgentLoopSettings, sequence: SequenceStore,
        inputs: any ThrottleInputs = SystemThrottleInputs(), liveness: LoopLiveness? = nil,
        emit: @escaping (CountWindow) -> Void, idleChanged: (@Sendable (Bool) -> Void)? = nil,
        logger: AgentLogger = .silent
    ) {
        self.pipeline = pipeline
        self.source = source
        sourceName = Mutex(source.description)
        self.settings = settings
        motionSettings = Mutex(settings.motion)
        self.sequence = sequence
        self.inputs = inputs
        self.emit = emit
        self.idleChanged = idleChanged
        self.logger = logger
        self.liveness = liveness
    }

    /// Changes the throttle, the tracking, the motion gate and the window length of
    /// the running loop: the throttle, tracking and gate apply from the next frame,
    /// the length from the next window. Callable from any thread.
    public func update(_ settings: LiveSettings) {
        pendingSettings.withLock { $0 = settings }
        motionSettings.withLock { $0 = settings.motion }
    }

    /// Replaces the frame source (a camera reopened with a new device, size or rate):
    /// the capture thread closes the old one and reads from this; counting and the
    /// current window go on. Live pacing only; callable from any thread.
    public func replaceSource(with source: any FrameSource) {
        let replaced = pendingSource.withLock { pending in
            defer { pending = CaptureHandOver(source: source) }
            return pending
        }
        replaced?.source.close()
    }

    /// Keeps the gate's figures for other threads, and says when idle turns to active or back.
    private func record(_ figures: AnalysisGate.Figures) {
        let wasIdle = gateFigures.withLock { stored in
            defer { stored = figures }
            return stored.idle
        }
        if figures.idle != wasIdle { idleChanged?(figures.idle) }
    }

    public func run(until stop: StopRequest) throws {
        switch settings.pacing {
        case .recording(let start): try runRecording(start: start, stop: stop)
        case .live: try runLive(stop: stop)
        }
    }

    // MARK: - A recording, frame by frame on its own timeline

    private func runRecording(start: Double, stop: StopRequest) throws {
        var state = try LoopState(settings: settings, startTime: start + 0, sequence: sequence)
        let motion = MotionDetector(settings: settings.motion)
        var motionFailure: String?
        defer { liveness?.ended("analysis") }
        while !stop.isRequested {
            liveness?.beat("analysis")
            let frame: Frame?
            do {
                frame = try source.nextFrame()
            } catch {
                logger.warning("\(error); frame skipped")
                continue
            }
            guard let frame else { break }
            if let update = pendingSettings.withLock({ $0.take() }) { state.apply(update) }
            let time = start + frame.time
            try state.advance(to: time, emit: emit)
            if state.gate.settings.enabled {
                motion.settings = state.gate.settings
                state.gate.note(
                    motion: Self.check(frame, with: motion, at: time, lastFailure: &motionFailure, logger: logger))
            }
            // On a recording the rate cap alone applies: CPU and temperature belong to this machine, not to the recording.
            if state.throttle.shouldAnalyse(at: time), !state.gateSkips(at: time) {
                record(state.gate.figures)
                state.throttle.begin(at: time, cpu: 0)
                let started = ContinuousClock.now
                try state.analyse(frame.image, at: time, pipeline: pipeline)
                work.withLock { $0 = state.work }
                state.throttle.end(at: time, cpu: 0, temperature: nil)
                let rate = state.throttle.effectiveRate(at: time), took = (ContinuousClock.now - started).seconds
                figures.withLock { $0 = (rate, took) }
            } else {
                record(state.gate.figures)
                state.aggregator.frameDropped()
            }
        }
        source.close()
        let end = state.lastTime
        emit(try state.finish(at: end))
    }

    // MARK: - A live source: capture on its own thread, analysis takes the newest frame

    private func runLive(stop: StopRequest) throws {
        let slot = LatestFrameSlot()
        let clockOffset = Date().timeIntervalSince1970 - inputs.now()
        let handOver = CaptureHandOver(source: source)
        let logger = self.logger
        let captureDone = DispatchSemaphore(value: 0)
        let capture = Thread { [self] in
            var source = handOver.source
            // A lost camera is retried for ever (the source backs off); say so once per change.
            var lastProblem: String?
            var streaming = false
            var skipped = SkippedFrameReport()
            let motion = MotionDetector(settings: motionSettings.withLock { $0 })
            var motionFailure: String?
            while !stop.isRequested {
                liveness?.beat("capture")
                if let next = pendingSource.withLock({ $0.take() })?.source {
                    source.close()
                    logger.info("capture reopened: \(next.description)")
                    source = next
                    sourceName.withLock { $0 = next.description }
                    lastProblem = nil
                    streaming = false
                }
                do {
                    guard let frame = try source.nextFrame() else { break }
                    let format = source.streamingFormat.map { " (\($0))" } ?? ""
                    if lastProblem != nil {
                        logger.info("\(source.description) delivers frames again\(format)")
                    } else if !streaming, !format.isEmpty {
                        logger.info("\(source.description) delivers frames\(format)")
                    }
                    streaming = true
                    lastProblem = nil
                    motion.settings = motionSettings.withLock { $0 }
                    let moved =
                        !motion.settings.enabled
                        || Self.check(
                            frame, with: motion, at: inputs.now(), lastFailure: &motionFailure, logger: logger)
                    slot.put(frame, at: inputs.now() + clockOffset, motion: moved)
                } catch {
                    if let error = error as? CaptureError, case .unreadableFrame = error {
                        // One bad frame (a corrupt MJPEG frame): skipped, the stream goes on.
                        if let line = skipped.skipped(error, at: inputs.now()) { logger.warning("\(line)") }
                        continue
                    }
                    let problem = "\(error)"
                    if problem != lastProblem { logger.warning("\(problem); retrying") }
                    lastProblem = problem
                }
            }
            liveness?.ended("capture")
            source.close()
            slot.finish()
            captureDone.signal()
        }
        capture.name = "edgecensus-capture"
        capture.start()

        var state = try LoopState(settings: settings, startTime: Date().timeIntervalSince1970, sequence: sequence)
        defer { liveness?.ended("analysis") }
        while !stop.isRequested {
            liveness?.beat("analysis")
            if let update = pendingSettings.withLock({ $0.take() }) { state.apply(update) }
            // Until the throttle allows the next analysis, frames pile up in the slot
            // (each replacing the last, counted as dropped); then the newest is taken.
            let wait = state.throttle.nextAnalysisTime - inputs.now()
            if wait > 0 {
                Thread.sleep(forTimeInterval: min(wait, 0.5))
                // Frames dropped so far, each counted in the window it was dropped in.
                state.aggregator.framesDropped(at: slot.drainDropped())
                try state.advance(to: inputs.now() + clockOffset, emit: emit)
                continue
            }
            let taken = slot.take(waitingUpTo: 0.5)
            let wall = inputs.now() + clockOffset
            state.aggregator.framesDropped(at: slot.drainDropped())
            try state.advance(to: wall, emit: emit)
            guard case .frame(let frame, let moved) = taken else {
                if case .finished = taken { break }
                continue
            }
            let time = inputs.now()
            state.gate.note(motion: moved)
            if state.gateSkips(at: time) {
                // Only the motion check ran: this frame is not analysed.
                state.aggregator.frameDropped()
                record(state.gate.figures)
                continue
            }
            record(state.gate.figures)
            state.throttle.begin(at: time, cpu: inputs.processCPUTime())
            try state.analyse(frame.image, at: wall, pipeline: pipeline)
            work.withLock { $0 = state.work }
            let end = inputs.now()
            state.throttle.end(at: end, cpu: inputs.processCPUTime(), temperature: inputs.temperature())
            let rate = state.throttle.effectiveRate(at: end)
            figures.withLock { $0 = (rate, end - time) }
        }
        stop.request()
        captureDone.wait()
        pendingSource.withLock { $0.take() }?.source.close()
        // Frames that came during the last analysis, and one still waiting in the slot,
        // were seen in the partial window: they count in it as dropped.
        var unanalysed = slot.drainDropped()
        if case .frame = slot.take(waitingUpTo: 0) { unanalysed.append(inputs.now() + clockOffset) }
        state.aggregator.framesDropped(at: unanalysed)
        try state.advance(to: inputs.now() + clockOffset, emit: emit)
        emit(try state.finish(at: Date().timeIntervalSince1970))
    }
}

/// What a running loop can change without a restart.
public struct LiveSettings: Sendable, Equatable {
    public var throttle: ThrottleSettings
    public var tracking: TrackingSettings
    public var motion: MotionSettings
    public var windowLength: Double

    public init(throttle: ThrottleSettings, tracking: TrackingSettings, motion: MotionSettings, windowLength: Double) {
        self.throttle = throttle
        self.tracking = tracking
        self.motion = motion
        self.windowLength = windowLength
    }
}

extension AgentLoop {
    /// One frame's motion check: whether it moved. A check that fails counts as
    /// motion (the detector looks rather than miss someone), said once per new reason.
    static func check(
        _ frame: Frame, with motion: MotionDetector, at time: Double, lastFailure: inout String?,
        logger: AgentLogger
    ) -> Bool {
        do {
            let seen = try motion.observe(frame.image, at: time)
            if lastFailure != nil {
                logger.info("the motion check works again")
                lastFailure = nil
            }
            return seen.isMotion
        } catch {
            let reason = "\(error)"
            if reason != lastFailure {
                logger.warning("the motion check failed (\(reason)); the detector runs on every analysis meanwhile")
            }
            lastFailure = reason
            return true
        }
    }
}

/// Hands the frame source to the capture thread.
private final class CaptureHandOver: @unchecked Sendable {
    // @unchecked: once the capture thread starts, it is the only user of `source`
    // (it reads, then closes it); the loop touches it again only after the thread
    // has signalled that it is done.
    let source: any FrameSource
    init(source: any FrameSource) { self.source = source }
}

/// How much classification a loop did, and how much settled people saved it.
public struct ClassificationWork: Sendable, Equatable {
    /// Faces classified (a gender and an age pass each).
    public var classified = 0
    /// Faces seen but not classified: their person's answers were settled.
    public var skipped = 0
    public init() {}
    /// The share of the faces seen that were not classified.
    public var savedShare: Double { classified + skipped > 0 ? Double(skipped) / Double(classified + skipped) : 0 }
}

/// The loop's counting state: throttle, tracker and windows together.
struct LoopState {
    var throttle: ThrottlePolicy
    var tracker: FaceTracker
    var aggregator: WindowAggregator
    var gate: AnalysisGate
    var lastTime: Double
    var work = ClassificationWork()

    init(settings: AgentLoopSettings, startTime: Double, sequence: SequenceStore) throws {
        throttle = ThrottlePolicy(settings: settings.throttle)
        tracker = FaceTracker(settings: settings.tracking)
        gate = AnalysisGate(settings: settings.motion)
        aggregator = try WindowAggregator(
            length: settings.windowLength, startingAt: startTime, nextNumber: sequence.next)
        lastTime = startTime
    }

    mutating func apply(_ settings: LiveSettings) {
        throttle.settings = settings.throttle
        tracker.settings = settings.tracking
        gate.settings = settings.motion
        aggregator.changeLength(to: settings.windowLength)
    }

    /// At a moment the throttle allows an analysis: whether the motion gate skips it
    /// (then the throttle's next chance is one rate interval on).
    mutating func gateSkips(at time: Double) -> Bool {
        let decision = gate.decide(
            at: time, tracked: tracker.tracked, unsettled: tracker.unsettled,
            trackTimeout: tracker.settings.trackTimeout)
        guard decision == .skip else { return false }
        throttle.skip(at: time)
        return true
    }

    mutating func advance(to time: Double, emit: (CountWindow) -> Void) throws {
        lastTime = max(lastTime, time)
        for window in try aggregator.advance(to: time, inView: tracker.peopleInView) { emit(window) }
    }

    /// Finds the faces, matches them to the tracks, and classifies only the faces
    /// whose person is not settled yet.
    mutating func analyse(_ image: Image, at time: Double, pipeline: FacePipeline) throws {
        var timings = StageTimings()
        let found = try pipeline.detectFaces(in: image, timings: &timings)
        let match = tracker.match(boxes: found.faces, at: time)
        var observations: [FaceObservation?] = []
        for index in found.faces.indices {
            if match.needsClassification[index] {
                observations.append(try pipeline.classify(index, of: found, timings: &timings).observation)
                work.classified += 1
            } else {
                observations.append(nil)
                work.skipped += 1
            }
        }
        aggregator.frameAnalysed()
        for visit in tracker.update(match, observations: observations) { aggregator.add(visit) }
    }

    mutating func finish(at time: Double) throws -> CountWindow {
        for visit in tracker.finishAll() { aggregator.add(visit) }
        return try aggregator.flush(at: time, inView: 0)
    }
}
