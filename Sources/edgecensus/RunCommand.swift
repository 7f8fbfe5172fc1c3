import ArgumentParser
import Dispatch
import EdgeCensusAgent
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusLogging
import EdgeCensusSystemd
import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: count people in time windows from a camera, a video or images.",
        discussion: """
            Writes each finished window as one line of JSON to standard output (the MQTT \
            publisher will take these over). Logs go to standard error. SIGTERM or SIGINT \
            counts everyone still in view, writes the partial window, and exits 0.

            Examples:
              edgecensus run                                   (camera from /etc/edgecensus/edgecensus.yaml)
              edgecensus run --config etc/samples/walkers.yaml (the bundled sample video, as fast as possible)
              edgecensus run --config etc/samples/walkers.yaml --mqtt localhost   (the same, published to a local broker)
              edgecensus run --video walk.mp4 --realtime false --start-time 2026-03-01T09:00:00Z
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Read this video file instead of the configured source.", valueName: "file"))
    var video: String?

    @Option(name: .long, help: ArgumentHelp("Read this folder of images instead of the configured source.", valueName: "dir"))
    var images: String?

    @Option(name: .long, help: "For a video: play it at its own frame rate (true) or as fast as possible (false).")
    var realtime: Bool?

    @Option(name: .long, help: ArgumentHelp("Wall-clock time of a recording's first frame (ISO 8601).", valueName: "time"))
    var startTime: String?

    @Option(name: .long, help: ArgumentHelp("Publish to this MQTT broker instead of the configured one (mqtt.host, mqtt.port).",
                                            valueName: "host[:port]"))
    var mqtt: String?

    func run() throws {
        // Log lines with their levels; under systemd, with their journal priority.
        let environment = ProcessInfo.processInfo.environment
        let logger = AgentLogger.standardError(environment: environment)
        // The local file with the remote changes kept in its state directory laid over it.
        let remote: RemoteConfiguration
        var configuration: AgentConfiguration
        let pipeline: FacePipeline
        do {
            remote = try RemoteConfiguration(localFile: modelOptions.configurationFile)
            configuration = remote.effective
            configuration.detection.border = 0  // camera frames are never framed by a border
            pipeline = try configuration.makePipeline(modelsOverride: modelOptions.models)
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        if let note = remote.loadNote { logger.warning("\(note)") }
        if let video { configuration.source.kind = .video; configuration.source.path = video }
        if let images { configuration.source.kind = .images; configuration.source.path = images }
        if let realtime { configuration.source.realtime = realtime }
        if let startTime {
            guard let date = ISO8601DateFormatter().date(from: startTime) else {
                throw ValidationError("--start-time '\(startTime)' is not an ISO 8601 time such as 2026-01-01T08:00:00Z")
            }
            configuration.source.startTime = date.timeIntervalSince1970
        }
        if let mqtt {
            let broker = try BrokerAddress(mqtt, defaultPort: configuration.mqtt.port)
            configuration.mqtt.host = broker.host
            configuration.mqtt.port = broker.port
        }
        let source: any FrameSource
        let pacing: PacingMode
        let sequence: SequenceStore
        do {
            (source, pacing) = try FrameSources.open(configuration.source)
            sequence = try SequenceStore(path: configuration.stateDirectory + "/sequence", now: Date().timeIntervalSince1970)
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        if let note = sequence.recoveryNote { logger.warning("\(note)") }
        let settings = AgentLoopSettings(
            device: configuration.effectiveDeviceID, windowLength: configuration.windowLength,
            kAnonymity: configuration.kAnonymity, throttle: configuration.throttle, tracking: configuration.tracking,
            pacing: pacing)
        let stop = StopRequest()
        // Under systemd (Type=notify): readiness, a one-line status, the watchdog.
        let systemd = SystemdNotifier(environment: environment)
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) {
            stop.request()
            systemd.stopping(status: "stopping: counting everyone in view into the last window and publishing it")
        }
        defer { signals.cancel() }
        logger.info("counting from \(source.description), windows of \(Int(configuration.windowLength)) s, device \(settings.device)")
        let device = settings.device, kAnonymity = Setting(configuration.kAnonymity)
        // The loop, once it exists: for health figures and remote changes.
        let loopReference = Setting<AgentLoop?>(nil)
        let outputReference = Setting<MQTTOutput?>(nil)
        let output: MQTTOutput?
        do {
            if configuration.mqtt.isEnabled {
                let mqtt = configuration.mqtt
                let layout = TopicLayout(prefix: mqtt.topicPrefix, device: device, discoveryPrefix: mqtt.discoveryPrefix)
                let changes = RemoteChangeApplier(runningSource: configuration.source, loop: loopReference,
                                                  output: outputReference, kAnonymity: kAnonymity, logger: logger)
                let service = RemoteConfigurationService(remote: remote, layout: layout, apply: { changes.apply($0) }, logger: logger)
                output = try MQTTOutput(configuration: configuration, device: device, participants: [service],
                                        loop: { loopReference.value },
                                        cameraState: { [description = source.description] in loopReference.value?.sourceDescription ?? description },
                                        logger: logger)
                outputReference.value = output
            } else {
                output = nil
            }
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        if let output {
            // The buffer has held higher window numbers than the sequence file gives (the file
            // was lost or reset): go on above them, so that no number is used twice.
            let before = sequence.lastUsed
            do {
                if try sequence.continueAfter(output.ringLastSequence) {
                    logger.warning("the sequence file \(sequence.path) was at \(before), below the offline buffer's \(output.ringLastSequence); windows go on from \(output.ringLastSequence + 1)")
                }
            } catch {
                logger.error("cannot write the sequence file \(sequence.path): \(error); check that the state directory is writable")
                throw ExitCode(2)
            }
        }
        // A loop silent for longer than the camera's longest reconnection wait (30 s) is stuck.
        let liveness = LoopLiveness(allowedSilence: 45)
        let broker = { output?.statusSummary ?? "MQTT off" }
        let loop = AgentLoop(pipeline: pipeline, source: source, settings: settings, sequence: sequence, liveness: liveness,
                             emit: { window in
            if let output {
                output.publish(window)
            } else {
                FileHandle.standardOutput.write(Data((CountReport.jsonLine(window, device: device, kAnonymity: kAnonymity.value) + "\n").utf8))
            }
            let seconds = max(window.end - window.start, 0.001)
            let rate = String(format: "%.2f", Double(window.framesAnalysed) / seconds)
            let partial = window.partial ? " (partial)" : ""
            logger.info("window \(window.sequence): \(window.people) people, \(window.framesAnalysed) frames analysed (\(rate)/s effective), \(window.framesDropped) dropped\(partial)")
            systemd.status("\(loopReference.value?.sourceDescription ?? source.description); window \(window.sequence):"
                           + " \(window.people) people; \(broker())")
        }, logger: logger)
        loopReference.value = loop
        defer { output?.finish(waitingUpTo: 10) }
        systemd.ready(status: "\(source.description); counting in windows of \(Int(configuration.windowLength)) s; \(broker())")
        let watchdog = systemd.watchdogInterval.map { interval in
            WatchdogPinger(notifier: systemd, interval: interval, check: {
                guard let stuck = liveness.stuckLoops().first else { return nil }
                return "the \(stuck.loop) loop has not gone round for \(Int(stuck.silentFor)) s"
            }, logger: logger)
        }
        watchdog?.start()
        defer { watchdog?.stop() }
        do {
            try loop.run(until: stop)
            if !stop.isRequested { systemd.stopping(status: "the source ended; publishing the last window") }
        } catch {
            logger.error("\(error)")
            throw ExitCode(1)
        }
    }
}

/// Turns the configured source into a frame source and the pacing it implies.
enum FrameSources {
    static func open(_ configuration: SourceConfiguration) throws -> (any FrameSource, PacingMode) {
        let recording = PacingMode.recording(start: configuration.startTime ?? Date().timeIntervalSince1970)
        switch configuration.kind {
        case .video:
            let source = try VideoFileSource(path: configuration.path, realtime: configuration.realtime)
            return (source, configuration.realtime ? .live : recording)
        case .images:
            return (try ImageFolderSource(folder: configuration.path, interval: configuration.interval), recording)
        case .camera:
            let camera = try V4L2Camera(settings: .init(device: configuration.device, width: configuration.width,
                                                         height: configuration.height, fps: configuration.fps,
                                                         format: V4L2Camera.Format(rawValue: configuration.format.rawValue) ?? .auto))
            return (camera, .live)
        }
    }
}

/// Calls back on SIGINT / SIGTERM instead of letting them kill the process.
final class SignalWatcher {
    private var sources: [any DispatchSourceSignal] = []

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// Puts an accepted remote change into the running agent: throttle, tracking and
/// window length into the loop, k-anonymity into what is published, the health
/// interval into the reports, and a camera change into a reopened capture.
struct RemoteChangeApplier: Sendable {
    /// The source as the agent runs it (the command line may have replaced the configured one).
    let runningSource: SourceConfiguration
    let loop: Setting<AgentLoop?>
    let output: Setting<MQTTOutput?>
    let kAnonymity: Setting<Int>
    let logger: AgentLogger

    func apply(_ change: RemoteConfiguration.Change) {
        let configuration = change.configuration
        loop.value?.update(LiveSettings(throttle: configuration.throttle, tracking: configuration.tracking,
                                       windowLength: configuration.windowLength))
        kAnonymity.value = configuration.kAnonymity
        if let output = output.value {
            output.publisherKAnonymity = configuration.kAnonymity
            output.healthInterval.value = configuration.mqtt.healthInterval
            output.configuredRate.value = configuration.throttle.maxRateHz
        }
        guard change.reopenCapture else { return }
        guard runningSource.kind == .camera else {
            logger.info("the camera settings are kept; they take effect when the source is a camera (it is a \(runningSource.kind.rawValue) now)")
            return
        }
        var source = runningSource
        source.device = configuration.source.device
        source.width = configuration.source.width
        source.height = configuration.source.height
        source.fps = configuration.source.fps
        source.format = configuration.source.format
        do {
            let (reopened, _) = try FrameSources.open(source)
            loop.value?.replaceSource(with: reopened)
        } catch {
            logger.warning("the camera could not be reopened with the new settings (\(error)); the current capture goes on")
        }
    }
}
