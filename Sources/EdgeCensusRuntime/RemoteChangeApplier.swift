import EdgeCensusAgent
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusLogging
import EdgeCensusMotion
import EdgeCensusRemoteConfiguration

/// Puts an accepted remote change into the running agent: throttle, tracking and
/// window length into the loop, k-anonymity into what is published, the health
/// interval into the reports, and a camera change into a reopened capture.
final class RemoteChangeApplier: Sendable {
    /// The source as the agent runs it (the command line may have replaced the configured one).
    let runningSource: SourceConfiguration
    let loop: Setting<AgentLoop?>
    let output: Setting<MQTTOutput?>
    let kAnonymity: Setting<Int>
    let logger: AgentLogger
    /// False once the agent is stopping: the loop and the capture are no longer changed.
    private let active = Setting(true)

    init(
        runningSource: SourceConfiguration, loop: Setting<AgentLoop?>, output: Setting<MQTTOutput?>,
        kAnonymity: Setting<Int>, logger: AgentLogger
    ) {
        self.runningSource = runningSource
        self.loop = loop
        self.output = output
        self.kAnonymity = kAnonymity
        self.logger = logger
    }

    /// From now on a change is only saved (the service does that before calling
    /// `apply`): it is in force from the next start.
    func stop() { active.value = false }

    func apply(_ change: RemoteConfiguration.Change) {
        guard active.value else {
            logger.info(
                "a remote change came while the agent is stopping: it is saved and in force from the next start")
            return
        }
        let configuration = change.configuration
        loop.value?.update(
            LiveSettings(
                throttle: configuration.throttle, tracking: configuration.trackingSettings,
                motion: configuration.motion, windowLength: configuration.windowLength))
        kAnonymity.value = configuration.kAnonymity
        if let output = output.value {
            output.publisherKAnonymity = configuration.kAnonymity
            output.healthInterval.value = configuration.mqtt.healthInterval
            output.configuredRate.value = configuration.throttle.maxRateHz
            output.motionEnabled.value = configuration.motion.enabled
        }
        guard change.reopenCapture else { return }
        guard runningSource.kind == .camera else {
            logger.info(
                "the camera settings are kept; they take effect when the source is a camera (it is a \(runningSource.kind.rawValue) now)"
            )
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
            logger.warning(
                "the camera could not be reopened with the new settings (\(error)); the current capture goes on")
        }
    }
}
