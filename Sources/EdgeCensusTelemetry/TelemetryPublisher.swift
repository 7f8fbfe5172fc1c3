public import EdgeCensusCounting
public import EdgeCensusLogging
import EdgeCensusStorage
import Foundation
import Synchronization

/// Publishes what the agent produces on the broker, following the conventions
/// dashboards know: a retained `online` status on every connect and `offline` as
/// the will, counts at QoS 1, the latest window retained on `state`, a periodic
/// `health`, and Home Assistant discovery (republished when Home Assistant
/// restarts and after every reconnect). The broker going away never stops the
/// agent: libmosquitto reconnects with backoff and resends unacknowledged QoS 1
/// messages.
/// Something else that speaks over the publisher's connection (remote
/// configuration): told of every connect, offered every message received.
public protocol MQTTParticipant: Sendable {
    /// After each connect (subscribe here, publish retained state).
    func connected(client: MQTTClient) async
    /// True when the message was for this participant.
    func received(_ message: MQTTMessage, client: MQTTClient) async -> Bool
}

public final class TelemetryPublisher: Sendable {
    public let client: MQTTClient
    public let layout: TopicLayout
    private let kAnonymitySetting: Mutex<Int>
    /// Applied to every window published from now on (a remote change can move it).
    public var kAnonymity: Int {
        get { kAnonymitySetting.withLock { $0 } }
        set { kAnonymitySetting.withLock { $0 = newValue } }
    }
    private let participantList: Mutex<[any MQTTParticipant]>
    private var participants: [any MQTTParticipant] { participantList.withLock { $0 } }

    /// Adds a participant (before `run()`, to hear of the first connect too).
    public func add(_ participant: any MQTTParticipant) {
        participantList.withLock { $0.append(participant) }
    }
    public let discovery: Bool
    public let version: String
    /// Seconds between health reports: the health entities expire after three missed ones.
    public let healthInterval: Double
    /// Where the discovery topics announced last are remembered (the state directory):
    /// those this run does not announce (discovery turned off, the device renamed, an
    /// entity dropped) are cleared with an empty retained message. Nil: none cleared.
    public let discoveryRecord: String?
    /// Where the topic base this agent published under last is remembered (the state
    /// directory): after a change of `device.id` (or `mqtt.topic_prefix`) the old
    /// base's retained `status`, `state`, `health` and `config/state` are cleared, so
    /// that no dashboard or `fleet status` keeps seeing a device that is gone.
    public let identityRecord: String?
    private let logger: AgentLogger
    private let connectedFlag = Mutex(false)
    private let stopping = Mutex(false)

    public init(
        settings: MQTTSettings, layout: TopicLayout, kAnonymity: Int, discovery: Bool, version: String,
        healthInterval: Double = 60, discoveryRecord: String? = nil, identityRecord: String? = nil,
        participants: [any MQTTParticipant] = [], logger: AgentLogger
    ) throws(MQTTError) {
        let will = MQTTMessage(topic: layout.status, text: TelemetryDocuments.status.offline, qos: 1, retain: true)
        client = try MQTTClient(settings: settings, will: will)
        self.layout = layout
        kAnonymitySetting = Mutex(kAnonymity)
        participantList = Mutex(participants)
        self.discovery = discovery
        self.version = version
        self.healthInterval = healthInterval
        self.discoveryRecord = discoveryRecord
        self.identityRecord = identityRecord
        self.logger = logger
    }

    public var isConnected: Bool { connectedFlag.withLock { $0 } }

    /// Connects, then follows the connection until the client stops: announces the
    /// device on every connect, answers Home Assistant's restarts.
    public func run() async throws(MQTTError) {
        try client.start()
        let settings = client.settings
        for await event in client.events {
            switch event {
            case .connected:
                connectedFlag.withLock { $0 = true }
                logger.info(
                    "connected to \(settings.host):\(settings.port) (MQTT \(settings.protocolVersion.rawValue))")
                // Online, then what the participants publish on a connect (health,
                // the configuration's state: small and awaited by dashboards), then
                // the dozens of discovery configs, each a round trip.
                await send(
                    MQTTMessage(topic: layout.status, text: TelemetryDocuments.status.online, qos: 1, retain: true))
                for participant in participants { await participant.connected(client: client) }
                await announce()
            case .refused(let reason):
                logger.error(
                    "the broker \(settings.host):\(settings.port) refused the connection: \(reason); check mqtt.username, mqtt.password_file and the broker's ACL"
                )
            case .disconnected(let reason):
                let wasConnected = connectedFlag.withLock { state in
                    defer { state = false }; return state
                }
                if wasConnected && !stopping.withLock({ $0 }) {
                    logger.warning(
                        "lost the broker \(settings.host):\(settings.port) (\(reason)); counting goes on, reconnecting")
                }
            case .problem(let problem):
                let hint =
                    problem.kind == .tls
                    ? "; check mqtt.tls.ca_file (and the client certificate) against the broker's certificate" : ""
                logger.error(
                    "MQTT connection to \(settings.host):\(settings.port) failed: \(problem.text)\(hint); retrying")
            case .subscribed(_, let granted):
                if granted.contains(where: { $0 >= 128 }) {
                    logger.warning(
                        "the broker refused the subscription to \(layout.homeAssistantStatus); discovery is republished only on reconnect. Check the broker's ACL"
                    )
                }
            case .message(let message):
                if message.topic == layout.homeAssistantStatus {
                    if message.text == "online", discovery { await publishDiscovery() }
                    continue
                }
                for participant in participants where await participant.received(message, client: client) { break }
            }
        }
    }

    /// Home Assistant's discovery configs, and the clean-up of what earlier runs left.
    private func announce() async {
        if discovery {
            do {
                try client.subscribe(layout.homeAssistantStatus, qos: 1)
            } catch {
                logger.warning("\(error)")
            }
            await publishDiscovery()
        }
        await clearStaleDiscovery()
        await clearPreviousIdentity()
    }

    /// Clears (empty, retained) what this agent left under the topic base it used
    /// before, if that was another, then remembers this one. The record moves on only
    /// once the broker has taken every clearing message (a broker whose ACL allows only
    /// the new id refuses them: they are logged, and tried again at the next connect).
    private func clearPreviousIdentity() async {
        guard let identityRecord else { return }
        let previous = ((try? String(contentsOfFile: identityRecord, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard previous != layout.base else { return }
        if !previous.isEmpty {
            var cleared = true
            for kind in ["status", "state", "health", "config/state"] {
                if !(await send(MQTTMessage(topic: previous + "/" + kind, text: "", qos: 1, retain: true))) {
                    cleared = false
                }
            }
            guard cleared else {
                logger.warning(
                    "could not clear the retained topics of \(previous) (this agent published there before it became \(layout.base)); tried again at the next connect"
                )
                return
            }
            logger.info(
                "cleared the retained status, state, health and config/state of \(previous): this agent publishes as \(layout.base) now"
            )
        }
        do {
            try AtomicFile.replace(identityRecord, with: layout.base + "\n")
        } catch {
            logger.warning(
                "cannot remember the topic base in \(identityRecord) (\(error)); a later id change cannot clear this one's topics"
            )
        }
    }

    private var discoveryEntities: [TelemetryDocuments.DiscoveryEntity] {
        discovery ? TelemetryDocuments.discovery(layout: layout, version: version, healthInterval: healthInterval) : []
    }

    private func publishDiscovery() async {
        for entity in discoveryEntities {
            await send(
                MQTTMessage(
                    topic: layout.discovery(component: entity.component, entity: entity.id), text: entity.config,
                    qos: 1, retain: true))
        }
    }

    /// Clears (empty, retained) the discovery configs an earlier run announced and this
    /// one does not, then remembers this run's.
    private func clearStaleDiscovery() async {
        guard let discoveryRecord else { return }
        let current = discoveryEntities.map { layout.discovery(component: $0.component, entity: $0.id) }
        let previous = ((try? String(contentsOfFile: discoveryRecord, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let stale = previous.filter { !current.contains($0) }
        for topic in stale {
            await send(MQTTMessage(topic: topic, text: "", qos: 1, retain: true))
        }
        if !stale.isEmpty {
            logger.info("cleared \(stale.count) Home Assistant discovery config(s) this agent no longer announces")
        }
        guard previous != current else { return }
        do {
            try AtomicFile.replace(discoveryRecord, with: current.map { $0 + "\n" }.joined())
        } catch {
            logger.warning(
                "cannot remember the discovery topics in \(discoveryRecord) (\(error)); stale ones may linger after a rename"
            )
        }
    }

    /// Publishes a finished window on `counts` (QoS 1, not retained) and `state`
    /// (retained); returns the broker's acknowledgement of the counts message.
    @discardableResult
    public func publish(_ window: CountWindow, replayed: Bool = false) async throws(MQTTError) -> PublishAcknowledgement
    {
        try await publish(
            document: TelemetryDocuments.counts(
                window, device: layout.device, kAnonymity: kAnonymity, replayed: replayed),
            replayed: replayed)
    }

    /// Publishes a counts document as stored (from the offline buffer): on `counts`,
    /// and, unless replayed, on `state`.
    @discardableResult
    public func publish(document: String, replayed: Bool) async throws(MQTTError) -> PublishAcknowledgement {
        let ack = try await client.publish(MQTTMessage(topic: layout.counts, text: document, qos: 1, retain: false))
        if !replayed { await send(MQTTMessage(topic: layout.state, text: document, qos: 1, retain: true)) }
        return ack
    }

    public func publishHealth(_ health: TelemetryDocuments.Health, at time: Double) async {
        await send(
            MQTTMessage(
                topic: layout.health, text: TelemetryDocuments.health(health, device: layout.device, at: time),
                qos: 1, retain: true))
    }

    /// Says `stopped` (retained) and disconnects cleanly, so that the will is not sent.
    public func shutdown() async {
        stopping.withLock { $0 = true }
        if isConnected {
            await send(MQTTMessage(topic: layout.status, text: TelemetryDocuments.status.stopped, qos: 1, retain: true))
        }
        client.stop()
    }

    /// Publishes and waits for the acknowledgement; false (and a warning) when the
    /// broker refused the message or it could not be sent.
    @discardableResult
    private func send(_ message: MQTTMessage) async -> Bool {
        do {
            let ack = try await client.publish(message)
            if !ack.isSuccess { logger.warning("the broker refused \(message.topic): reason code \(ack.reasonCode)") }
            return ack.isSuccess
        } catch {
            logger.warning("\(error)")
            return false
        }
    }
}
