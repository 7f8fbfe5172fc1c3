import EdgeCensusAgent
import EdgeCensusCapture
public import EdgeCensusConfiguration
import EdgeCensusCounting
public import EdgeCensusLogging
import EdgeCensusMotion
public import EdgeCensusRemoteConfiguration
import EdgeCensusStorage
import EdgeCensusSystemd
import EdgeCensusTelemetry
public import EdgeCensusVision
import Foundation
import Synchronization

/// The running agent: the one owner of its parts, which starts them in order, tells
/// systemd when it is ready and whether it is alive, and stops them in the reverse
/// order so that nothing counted is lost.
///
/// Start, in this order (`init` does the first five, `run` the rest):
/// 1. `capture`: the configured source is opened (a camera, a video, a folder).
/// 2. `sequence`: the window numbers, continued from the state directory.
/// 3. `delivery`: the offline buffer (ring file); windows from before are replayed
///    once the broker is there. With MQTT only.
/// 4. `publisher`: the broker connection, with its will (`offline`) and
///    discovery; then `remoteConfiguration` (`config/set`, `config/get`) and
///    `health`. With MQTT only.
/// 5. `analysis`: the loop that takes frames, counts and closes windows.
/// 6. `READY=1` with a status line, then the `watchdog` pings.
///
/// Stop (a signal through `requestStop`, or the end of a recording), in this order:
/// `STOPPING=1`; `remoteConfiguration` stops changing the running parts (a change
/// accepted from then on is saved and in force from the next start); the `analysis`
/// loop stops taking frames, closes the `capture`, counts everyone still in view
/// into the partial window and hands it over; the `watchdog` stops; the windows
/// still queued are published (up to 10 s for the broker; they are in the ring
/// anyway); `health` stops; the `publisher` says `stopped` and disconnects;
/// `delivery` records the broker's last acknowledgements in the ring, so that no
/// acknowledged window is sent again after a restart. Then `run` returns.
///
/// (swift-service-lifecycle's `ServiceGroup` would be the ecosystem's tool for
/// this, but the package mirror's versions declare Swift tools 6.2, which Debian
/// 13's swiftlang 6.0.3 cannot build; the order here is short and fixed.)
public final class AgentRuntime: Sendable {
    public enum Part: String, Sendable, CaseIterable {
        case capture, sequence, delivery, publisher, remoteConfiguration = "remote configuration", health, analysis,
            watchdog
    }

    /// What happened to the runtime, in the order it happened (for tests and logs).
    public enum Event: Sendable, Equatable, CustomStringConvertible {
        case started(Part)
        case ready
        case stopping
        case stopped(Part)

        public var description: String {
            switch self {
            case .started(let part): "started \(part.rawValue)"
            case .ready: "ready"
            case .stopping: "stopping"
            case .stopped(let part): "stopped \(part.rawValue)"
            }
        }
    }

    /// The agent could not start: what was wrong (the configuration, the source, the
    /// state directory, the broker settings). Nothing was counted yet.
    public struct StartError: Error, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The source (camera, video, image folder) cannot be opened.
            case source
            /// The MQTT client cannot be set up (the password or TLS files).
            case broker
        }

        public let kind: Kind
        public let description: String
    }

    /// The settings the runtime was started with (the source as run: a command line may replace the configured one).
    public let configuration: AgentConfiguration
    public let device: String
    private let logger: AgentLogger
    private let systemd: SystemdNotifier
    private let openedSource: String
    private let loop: AgentLoop
    private let output: MQTTOutput?
    private let changes: RemoteChangeApplier?
    private let liveness: LoopLiveness
    private let stop = StopRequest()
    /// Set once, by whichever comes first: `requestStop` or the loop's own end.
    private let stopBegun = Mutex(false)
    private let record: @Sendable (Event) -> Void

    /// Opens the source and the state, and (with `mqtt.host` set) starts the offline
    /// buffer, the publisher, remote configuration and health.
    /// - `remote`: the local file with the remote changes laid over it
    ///   (`configuration` is its effective configuration, perhaps changed by a command line).
    /// - `localWindows`: where each window's JSON line goes when MQTT is off.
    /// - `environment`: `NOTIFY_SOCKET` and `WATCHDOG_USEC` under systemd.
    /// - `events`: told of each start and stop, in order.
    public init(
        configuration: AgentConfiguration, remote: RemoteConfiguration, pipeline: FacePipeline, version: String,
        environment: [String: String], logger: AgentLogger,
        localWindows: @escaping @Sendable (String) -> Void,
        events: @escaping @Sendable (Event) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.record = events
        systemd = SystemdNotifier(environment: environment)
        let pacing: PacingMode
        let source: any FrameSource
        do {
            (source, pacing) = try FrameSources.open(
                configuration.source, maxPixels: configuration.maxImageMegapixels * 1_000_000)
        } catch {
            throw StartError(kind: .source, description: "\(error)")
        }
        openedSource = source.description
        events(.started(.capture))
        // The state directory's files can fail (deleted, full, read-only): counting
        // goes on, and each fault is logged once when it begins and when it clears.
        let storage = StorageHealth { change in
            switch change {
            case .began(let condition):
                logger.error("state directory: \(condition.fault); \(condition.consequence)")
            case .cleared(let condition):
                logger.info(
                    "state directory: the \(condition.role) file \(condition.fault.path) is written again (after \(condition.fault.cause))"
                )
            }
        }
        let sequence = SequenceStore(
            path: configuration.stateDirectory + "/sequence", now: Date().timeIntervalSince1970, health: storage)
        if let note = sequence.recoveryNote { logger.warning("\(note)") }
        events(.started(.sequence))
        let settings = AgentLoopSettings(
            device: configuration.effectiveDeviceID, windowLength: configuration.windowLength,
            kAnonymity: configuration.kAnonymity, throttle: configuration.throttle,
            tracking: configuration.trackingSettings,
            motion: configuration.motion, pacing: pacing)
        device = settings.device
        let kAnonymity = Setting(configuration.kAnonymity)
        // Parts made below, for the closures of parts made before them.
        let loopReference = Setting<AgentLoop?>(nil)
        let outputReference = Setting<MQTTOutput?>(nil)
        if configuration.mqtt.isEnabled {
            let mqtt = configuration.mqtt
            let layout = TopicLayout(prefix: mqtt.topicPrefix, device: device, discoveryPrefix: mqtt.discoveryPrefix)
            let changes = RemoteChangeApplier(
                runningSource: configuration.source, loop: loopReference,
                output: outputReference, kAnonymity: kAnonymity, logger: logger)
            let service = RemoteConfigurationService(
                remote: remote, layout: layout, apply: { changes.apply($0) }, logger: logger)
            let output: MQTTOutput
            do {
                output = try MQTTOutput(
                    configuration: configuration, device: device, version: version, storage: storage,
                    participants: [service],
                    loop: { loopReference.value },
                    cameraState: { [description = source.description] in
                        loopReference.value?.sourceDescription ?? description
                    },
                    logger: logger, started: events)
            } catch {
                source.close()
                throw StartError(kind: .broker, description: "\(error)")
            }
            outputReference.value = output
            events(.started(.remoteConfiguration))
            self.output = output
            self.changes = changes
            // The buffer has held higher window numbers than the sequence file gives (the file
            // was lost or reset): go on above them, so that no number is used twice.
            let before = sequence.lastUsed
            if sequence.continueAfter(output.ringLastSequence) {
                logger.warning(
                    "the sequence file \(sequence.path) was at \(before), below the offline buffer's \(output.ringLastSequence); windows go on from \(output.ringLastSequence + 1)"
                )
            }
        } else {
            output = nil
            changes = nil
        }
        // A loop silent for longer than the camera's longest reconnection wait (30 s) is stuck.
        let liveness = LoopLiveness(allowedSilence: 45)
        self.liveness = liveness
        let output = self.output, systemd = self.systemd
        let gateAtLastWindow = Setting(AnalysisGate.Figures())
        let broker: @Sendable () -> String = { output?.statusSummary ?? "MQTT off" }
        let sourceDescription = source.description
        loop = AgentLoop(
            pipeline: pipeline, source: source, settings: settings, sequence: sequence, liveness: liveness,
            emit: { [device] window in
                if let output {
                    output.publish(window)
                } else {
                    localWindows(CountReport.jsonLine(window, device: device, kAnonymity: kAnonymity.value))
                }
                let seconds = max(window.end - window.start, 0.001)
                let rate = String(format: "%.2f", Double(window.framesAnalysed) / seconds)
                let partial = window.partial ? " (partial)" : ""
                logger.info(
                    "window \(window.sequence): \(window.people) people, \(window.framesAnalysed) frames analysed (\(rate)/s effective), \(window.framesDropped) dropped\(partial)"
                )
                // Idle or active, and the share of the window gated; nothing when no frame came.
                let activity =
                    loopReference.value.map { loop in
                        let gate = loop.motionGate
                        let previous = gateAtLastWindow.value
                        gateAtLastWindow.value = gate
                        guard gate.passes + gate.skipped > previous.passes + previous.skipped else { return "" }
                        let observed = gate.observedSeconds - previous.observedSeconds
                        let share = observed > 0 ? (gate.gatedSeconds - previous.gatedSeconds) / observed : 0
                        return (gate.idle ? "; idle (only the motion check runs)" : "; active")
                            + String(format: ", %.0f %% of the window gated", share * 100)
                    } ?? ""
                systemd.status(
                    "\(loopReference.value?.sourceDescription ?? sourceDescription); window \(window.sequence):"
                        + " \(window.people) people\(activity); \(broker())")
            },
            idleChanged: { idle in
                let source = loopReference.value?.sourceDescription ?? sourceDescription
                systemd.status(
                    idle
                        ? "\(source); idle: nothing moves, only the motion check runs; \(broker())"
                        : "\(source); active: something moves or people are in view; \(broker())")
            }, logger: logger)
        loopReference.value = loop
        events(.started(.analysis))
    }

    /// The source as it was opened (for example `camera /dev/video0`).
    public var sourceDescription: String { loop.sourceDescription }

    /// Counts until `requestStop` (or the end of a recording), then stops every part
    /// in order. Throws what stopped the analysis loop, after the ordered stop.
    public func run() throws {
        let broker = { [output] in output?.statusSummary ?? "MQTT off" }
        systemd.ready(
            status: "\(openedSource); counting in windows of \(Int(configuration.windowLength)) s; \(broker())")
        record(.ready)
        let liveness = self.liveness
        let watchdog = systemd.watchdogInterval.map { interval in
            WatchdogPinger(
                notifier: systemd, interval: interval,
                check: {
                    guard let stuck = liveness.stuckLoops().first else { return nil }
                    return "the \(stuck.loop) loop has not gone round for \(Int(stuck.silentFor)) s"
                }, logger: logger)
        }
        watchdog?.start()
        if watchdog != nil { record(.started(.watchdog)) }
        var failure: (any Error)?
        do {
            try loop.run(until: stop)
        } catch {
            failure = error
        }
        beginStopping(
            status: failure.map { "stopping after an error: \($0)" } ?? "the source ended; publishing the last window")
        record(.stopped(.capture))
        record(.stopped(.analysis))
        if let watchdog {
            watchdog.stop()
            record(.stopped(.watchdog))
        }
        output?.finish(waitingUpTo: 10, stopped: record)
        if let failure { throw failure }
    }

    /// Asks the runtime to stop (from a signal handler or another thread): systemd is
    /// told at once, remote changes stop touching the running parts, and `run` stops
    /// the rest in order and returns.
    public func requestStop() {
        beginStopping(status: "stopping: counting everyone in view into the last window and publishing it")
        stop.request()
    }

    private func beginStopping(status: String) {
        guard
            stopBegun.withLock({ begun in
                defer { begun = true }; return !begun
            })
        else { return }
        systemd.stopping(status: status)
        record(.stopping)
        if let changes {
            changes.stop()
            record(.stopped(.remoteConfiguration))
        }
    }
}
