import ArgumentParser
import Dispatch
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusLogging
import EdgeCensusRemoteConfiguration
import EdgeCensusRuntime
import EdgeCensusSupport
import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: count people in time windows from a camera, a video or images.",
        discussion: """
            Publishes each finished window over MQTT when mqtt.host (or --mqtt) names a \
            broker, keeping it in the offline buffer until the broker has it; without a \
            broker, writes each as one line of JSON to standard output. Logs go to \
            standard error. SIGTERM or SIGINT counts everyone still in view, sends the \
            partial window, and exits 0.

            Examples:
              edgecensus run                                   (camera from /etc/edgecensus/edgecensus.yaml)
              edgecensus run --config etc/samples/walkers.yaml (the bundled sample video, as fast as possible)
              edgecensus run --config etc/samples/walkers.yaml --mqtt localhost   (the same, published to a local broker)
              edgecensus run --video walk.mp4 --realtime false --start-time 2026-03-01T09:00:00Z
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(
        name: .long, help: ArgumentHelp("Read this video file instead of the configured source.", valueName: "file"))
    var video: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Read this folder of images instead of the configured source.", valueName: "dir"))
    var images: String?

    @Option(name: .long, help: "For a video: play it at its own frame rate (true) or as fast as possible (false).")
    var realtime: Bool?

    @Option(
        name: .long, help: ArgumentHelp("Wall-clock time of a recording's first frame (ISO 8601).", valueName: "time"))
    var startTime: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Publish to this MQTT broker instead of the configured one (mqtt.host, mqtt.port).",
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
            pipeline = try configuration.makePipeline(modelsOverride: modelOptions.models, for: .frames)
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        if let note = remote.loadNote { logger.warning("\(note)") }
        if let video { configuration.source.kind = .video; configuration.source.path = video }
        if let images { configuration.source.kind = .images; configuration.source.path = images }
        if let realtime { configuration.source.realtime = realtime }
        if let startTime {
            guard let seconds = InternetTime.seconds(startTime) else {
                throw ValidationError(
                    "--start-time '\(startTime)' is not an ISO 8601 time such as 2026-01-01T08:00:00Z")
            }
            configuration.source.startTime = seconds
        }
        if let mqtt {
            let broker = try BrokerAddress(mqtt, defaultPort: configuration.mqtt.port)
            configuration.mqtt.host = broker.host
            configuration.mqtt.port = broker.port
        }
        // The runtime owns the parts (capture, window numbers, offline buffer, publisher,
        // remote configuration, health, analysis, watchdog) and their start and stop order.
        let runtime: AgentRuntime
        do {
            runtime = try AgentRuntime(
                configuration: configuration, remote: remote, pipeline: pipeline, version: EdgeCensusVersion.current,
                environment: environment, logger: logger,
                localWindows: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) })
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { runtime.requestStop() }
        defer { signals.cancel() }
        logger.info(
            "counting from \(runtime.sourceDescription), windows of \(Int(configuration.windowLength)) s, device \(runtime.device)"
        )
        do {
            try runtime.run()
        } catch {
            logger.error("\(error)")
            throw ExitCode(1)
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
