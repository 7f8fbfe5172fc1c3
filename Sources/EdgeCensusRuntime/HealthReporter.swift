import EdgeCensusAgent
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusStorage
import EdgeCensusTelemetry
import Foundation

/// Makes and publishes the health report: every `mqtt.health_interval` seconds, and
/// at once after each connect, so that a dashboard never shows the previous run's
/// figures (or none) for a whole interval after a start or a reconnect. CPU, the
/// motion gate's share and its passes are counted since the previous report.
actor HealthReporter: MQTTParticipant {
    /// What the report reads from the running agent.
    struct Sources: Sendable {
        var version: String
        var startTime: Double
        var loop: @Sendable () -> AgentLoop?
        var cameraState: @Sendable () -> String
        var configuredRate: Setting<Double>
        var motionEnabled: Setting<Bool>
        var recentPeople: Setting<RecentPeople>
        var storage: StorageHealth
        var delivery: WindowDelivery
    }

    private let publisher: TelemetryPublisher
    private let sources: Sources
    private let inputs = SystemThrottleInputs()
    private var lastCPU: Double
    private var lastWall: Double
    private var lastGate = AnalysisGate.Figures()

    init(publisher: TelemetryPublisher, sources: Sources) {
        self.publisher = publisher
        self.sources = sources
        lastCPU = inputs.processCPUTime()
        lastWall = inputs.now()
    }

    nonisolated func connected(client: MQTTClient) async { await report() }

    nonisolated func received(_ message: MQTTMessage, client: MQTTClient) async -> Bool { false }

    /// Publishes one report now.
    func report() async {
        let cpu = inputs.processCPUTime(), wall = inputs.now()
        let now = Date().timeIntervalSince1970
        let buffered = await sources.delivery.backlog(now: now)
        let agent = sources.loop()
        let gate = agent?.motionGate ?? AnalysisGate.Figures()
        let observed = gate.observedSeconds - lastGate.observedSeconds
        let motion = TelemetryDocuments.MotionGate(
            enabled: sources.motionEnabled.value, idle: gate.idle,
            gatedShare: observed > 0 ? min(1, max(0, (gate.gatedSeconds - lastGate.gatedSeconds) / observed)) : 0,
            detectorPasses: max(0, gate.passes - lastGate.passes), passesSaved: max(0, gate.skipped - lastGate.skipped))
        let health = TelemetryDocuments.Health(
            uptime: now - sources.startTime, version: sources.version, cameraState: sources.cameraState(),
            configuredRate: sources.configuredRate.value, effectiveRate: agent?.effectiveRate ?? 0,
            inferenceMilliseconds: agent?.lastInferenceSeconds.map { $0 * 1000 },
            cpuPercent: (cpu - lastCPU) / max(wall - lastWall, 0.001) * 100,
            residentMemory: ResidentMemory.now()?.current, temperature: inputs.temperature(),
            bufferedWindows: buffered.windows, oldestUnsentSeconds: buffered.oldestSeconds,
            droppedWindows: buffered.dropped,
            lastHour: sources.recentPeople.value.total(at: now), storageFaults: sources.storage.current, motion: motion)
        (lastCPU, lastWall, lastGate) = (cpu, wall, gate)
        await publisher.publishHealth(health, at: now)
    }
}
