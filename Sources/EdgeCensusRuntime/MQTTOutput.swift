import Dispatch
import EdgeCensusAgent
import EdgeCensusBuffer
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusLogging
import EdgeCensusMotion
import EdgeCensusStorage
import EdgeCensusTelemetry
import Foundation
import Synchronization

/// Runs the telemetry publisher beside the (synchronous) agent loop: windows are
/// handed over in order and published one after the other; health goes out every
/// `mqtt.health_interval` seconds. The broker being away never blocks counting.
final class MQTTOutput: Sendable {
    private let publisher: TelemetryPublisher
    /// Each finished window, and whether the broker was there when it ended.
    private let windows: AsyncStream<(window: CountWindow, brokerWasThere: Bool)>.Continuation
    private let publishing: Task<Void, Never>
    private let connection: Task<Void, Never>
    private let health: Task<Void, Never>
    private let delivery: WindowDelivery
    /// The highest window number the offline buffer has ever held (when it was opened).
    let ringLastSequence: UInt64
    /// Seconds between health reports, and the configured analysis rate they show.
    let healthInterval: Setting<Double>
    let configuredRate: Setting<Double>
    /// `motion.enabled` as in force now (a remote change may turn it off or on).
    let motionEnabled: Setting<Bool>
    /// Windows in the offline buffer not yet acknowledged, as of the last delivery.
    private let bufferedWindows: Setting<Int>
    /// The people of the last hour's windows, as published, for the health report.
    private let recentPeople: Setting<RecentPeople>
    /// The broker's side of the service's one-line status.
    var statusSummary: String {
        "broker \(publisher.isConnected ? "connected" : "not connected"); \(bufferedWindows.value) buffered"
    }
    var publisherKAnonymity: Int {
        get { publisher.kAnonymity }
        set { publisher.kAnonymity = newValue }
    }

    init(
        configuration: AgentConfiguration, device: String, version: String, storage: StorageHealth,
        participants: [any MQTTParticipant] = [],
        loop: @escaping @Sendable () -> AgentLoop?,
        cameraState: @escaping @Sendable () -> String, logger: AgentLogger,
        started: @Sendable (AgentRuntime.Event) -> Void = { _ in }
    ) throws {
        let mqtt = configuration.mqtt
        let publisher = try TelemetryPublisher(
            settings: mqtt.settings(device: device),
            layout: TopicLayout(prefix: mqtt.topicPrefix, device: device, discoveryPrefix: mqtt.discoveryPrefix),
            kAnonymity: configuration.kAnonymity, discovery: mqtt.discovery, version: version,
            healthInterval: mqtt.healthInterval, discoveryRecord: configuration.stateDirectory + "/discovery-topics",
            identityRecord: configuration.stateDirectory + "/published-as",
            participants: participants, logger: logger)
        self.publisher = publisher
        // The offline buffer: every window is on disk before it is published (in
        // memory while the disk refuses, which `storage` reports).
        let ring = OfflineBuffer(
            path: configuration.bufferPath, capacity: configuration.buffer.sizeMiB * 1_048_576,
            sync: configuration.buffer.sync == .always ? .always : .never, health: storage)
        if let note = ring.recovery?.note { logger.warning("\(note)") }
        if ring.pendingCount > 0 {
            logger.info(
                "\(ring.pendingCount) window(s) from before are buffered; they are sent once the broker is there")
        }
        ringLastSequence = ring.lastSequence
        let buffered = Setting(ring.pendingCount)
        let delivery = WindowDelivery(
            ring: ring, publisher: publisher, replayRateHz: configuration.buffer.replayRateHz, logger: logger)
        self.delivery = delivery
        publisher.add(delivery)
        started(.started(.delivery))
        let startTime = Date().timeIntervalSince1970
        let rate = Setting(configuration.throttle.maxRateHz), interval = Setting(mqtt.healthInterval)
        let motionEnabled = Setting(configuration.motion.enabled)
        self.motionEnabled = motionEnabled
        configuredRate = rate
        healthInterval = interval
        let recentPeople = Setting(RecentPeople())
        self.recentPeople = recentPeople
        let reporter = HealthReporter(
            publisher: publisher,
            sources: .init(
                version: version, startTime: startTime, loop: loop, cameraState: cameraState, configuredRate: rate,
                motionEnabled: motionEnabled, recentPeople: recentPeople, storage: storage, delivery: delivery))
        // A participant before the client starts, so that the first connect reports health at once.
        publisher.add(reporter)
        connection = Task {
            do { try await publisher.run() } catch { logger.error("\(error)") }
        }
        let (stream, continuation) = AsyncStream<(window: CountWindow, brokerWasThere: Bool)>.makeStream(
            bufferingPolicy: .bufferingNewest(10_000))
        windows = continuation
        bufferedWindows = buffered
        publishing = Task {
            for await (window, brokerWasThere) in stream {
                await delivery.deliver(window, live: brokerWasThere)
                buffered.value = await delivery.backlog(now: Date().timeIntervalSince1970).windows
            }
        }
        started(.started(.publisher))
        health = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval.value))
                guard !Task.isCancelled else { break }
                await reporter.report()
            }
        }
        started(.started(.health))
    }

    func publish(_ window: CountWindow) {
        let people = CountReport.publishedPeople(window, kAnonymity: publisher.kAnonymity)
        recentPeople.update { $0.record(end: window.end, people: people) }
        // Whether the window ended while the broker was away is decided now, not when the
        // delivery task gets to it (later on a busy machine, perhaps after a reconnect).
        windows.yield((window, publisher.isConnected))
    }

    /// Publishes what is left (waiting up to `seconds` for the broker), says `stopped`,
    /// disconnects, and returns once every acknowledgement received is recorded in
    /// the ring (so that no acknowledged window is sent again after a restart).
    func finish(waitingUpTo seconds: Double, stopped: @escaping @Sendable (AgentRuntime.Event) -> Void = { _ in }) {
        windows.finish()
        let done = DispatchSemaphore(value: 0)
        let publisher = self.publisher, publishing = self.publishing, health = self.health, connection = self.connection
        let delivery = self.delivery
        Task {
            let deadline = ContinuousClock.now + .seconds(seconds)
            let drained = Task { await publishing.value }
            let timeout = Task {
                try? await Task.sleep(for: .seconds(seconds)); drained.cancel()
            }
            _ = await drained.value
            timeout.cancel()
            // Windows buffered while the broker was not there yet (a connect still under
            // way when a short recording ended): sent now, if the broker comes in time.
            // The client tries at once and backs off from one second again, so that the
            // wait is spent trying rather than in a backoff grown long while it was away.
            if !publisher.isConnected { publisher.client.retryPromptly() }
            await delivery.drain(until: deadline)
            health.cancel()  // a report in flight still goes out; none follows
            stopped(.stopped(.health))
            await delivery.stopReplaying()
            await publisher.shutdown()  // says stopped, disconnects
            stopped(.stopped(.publisher))
            await delivery.finishSends()
            _ = await connection.value
            stopped(.stopped(.delivery))
            done.signal()
        }
        _ = done.wait(timeout: .now() + seconds + 5)
    }
}
