import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusSupport
public import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation

/// Many simulated devices publishing to one broker as real agents do, on a clock
/// that runs `speed` times faster than the wall clock: on connecting, each device's
/// retained `status`, Home Assistant discovery (every config a real agent
/// announces) and `config/state`; then, on the clock, one window per
/// `windowLength` (QoS 1 `counts` and retained `state`, all devices at the same
/// instant, as clock-aligned windows are) and a retained `health` report per
/// `healthInterval`. Every document is made by the code the agent uses. A
/// responder answers `config/set` for every device as an agent would (the result
/// on the request's response topic or `config/result`, then the new `config/state`).
///
/// The devices share `connections` MQTT connections (a real fleet has one per
/// device, with its will; the broker's message load is the same, its per-connection
/// memory is not measured here), and the responder subscribes at QoS 0 (one real
/// device's queue never holds more than its own requests). A consumer subscribed
/// to all of it (as a dashboard plus a store together are) receives every window,
/// health report and status while the clock runs, so the broker routes each
/// message to one subscriber too.
public struct FleetSimulation: Sendable {
    public var devices: Int
    public var prefix: String
    public var discoveryPrefix: String
    public var speed: Double
    public var simulatedSeconds: Double
    public var windowLength: Double = 60
    public var healthInterval: Double = 60
    public var connections = 8
    /// Publishes awaiting their acknowledgement at once, per connection.
    public var inFlight = 100

    public init(
        devices: Int, prefix: String, discoveryPrefix: String, speed: Double = 60, simulatedSeconds: Double = 3600
    ) {
        self.devices = devices
        self.prefix = prefix
        self.discoveryPrefix = discoveryPrefix
        self.speed = speed
        self.simulatedSeconds = simulatedSeconds
    }

    public func deviceID(_ index: Int) -> String { "sim-\(index + 1)" }
    public func layout(_ index: Int) -> TopicLayout {
        TopicLayout(prefix: prefix, device: deviceID(index), discoveryPrefix: discoveryPrefix)
    }

    /// Messages and bytes (topic + payload) by kind.
    public struct Tally: Sendable {
        public var messages: [String: Int] = [:]
        public var bytes: [String: Int] = [:]
        mutating func add(_ kind: String, _ message: MQTTMessage) {
            messages[kind, default: 0] += 1
            bytes[kind, default: 0] += message.topic.utf8.count + message.payload.count
        }
        public var totalMessages: Int { messages.values.reduce(0, +) }
        public var totalBytes: Int { bytes.values.reduce(0, +) }
    }

    public struct Result: Sendable {
        /// Once per connection of each device: status, discovery, config/state.
        public var perConnect: Tally
        /// Over the simulated time: windows and health.
        public var steady: Tally
        public var simulatedSeconds: Double
        public var announceSeconds: Double
        public var runSeconds: Double
        /// Messages the consumer received while the clock ran.
        public var consumed: Int
        /// Simulated seconds per real second actually reached (below `speed` when publishing could not keep up).
        public var achievedSpeed: Double { simulatedSeconds / max(runSeconds, 1e-9) }
    }

    /// Connects, announces every device, runs the clock. The responder keeps
    /// answering until `stop()` on the returned handle.
    public func run(settings: MQTTSettings) async throws -> (Result, Responder) {
        var clients: [MQTTClient] = []
        for index in 0..<connections {
            var own = settings
            own.clientID = "\(settings.clientID)-\(index)"
            let client = try MQTTClient(settings: own)
            try client.start()
            clients.append(client)
        }
        for client in clients { try await Self.waitConnected(client) }
        let responder = try await Responder.start(settings: settings, simulation: self)
        let pool = clients
        func send(_ messages: [MQTTMessage]) async {
            // Spread over the connections, `inFlight` outstanding on each.
            await withTaskGroup(of: Void.self) { group in
                for (c, client) in pool.enumerated() {
                    let share = stride(from: c, to: messages.count, by: pool.count).map { messages[$0] }
                    group.addTask {
                        var next = 0
                        await withTaskGroup(of: Void.self) { inner in
                            for _ in 0..<min(inFlight, share.count) {
                                let message = share[next]; next += 1
                                inner.addTask { _ = try? await client.publish(message) }
                            }
                            while await inner.next() != nil {
                                guard next < share.count else { continue }
                                let message = share[next]; next += 1
                                inner.addTask { _ = try? await client.publish(message) }
                            }
                        }
                    }
                }
            }
        }

        // On connecting: what every agent says.
        var perConnect = Tally()
        let announceStart = ContinuousClock.now
        let configState = JSONValue.object([
            "schema": .string("edgecensus.config-state/1"), "config_version": .int(0),
            "config": ConfigurationKeys.remoteValues(of: AgentConfiguration()), "overrides": .object([:]),
        ]).json
        var batch: [MQTTMessage] = []
        for index in 0..<devices {
            let layout = layout(index)
            batch.append(
                MQTTMessage(topic: layout.status, text: TelemetryDocuments.status.online, qos: 1, retain: true))
            perConnect.add("status", batch.last!)
            for entity in TelemetryDocuments.discovery(layout: layout, version: "0.1.0", healthInterval: healthInterval)
            {
                batch.append(
                    MQTTMessage(
                        topic: layout.discovery(component: entity.component, entity: entity.id), text: entity.config,
                        qos: 1, retain: true))
                perConnect.add("discovery", batch.last!)
            }
            batch.append(MQTTMessage(topic: layout.configState, text: configState, qos: 1, retain: true))
            perConnect.add("config/state", batch.last!)
            if batch.count >= 5000 { await send(batch); batch = [] }
        }
        await send(batch)
        let announceSeconds = (ContinuousClock.now - announceStart).seconds

        // The consumer, from the clock on.
        var consumerSettings = settings
        consumerSettings.clientID = settings.clientID + "-consumer"
        let consumer = try MQTTClient(settings: consumerSettings, eventsKept: nil)
        try consumer.start()
        let consumerTopics = ["counts", "state", "health", "status"].map { "\(prefix)/+/\($0)" }
        let (consumerReady, consumerSubscribed) = AsyncStream<Void>.makeStream()
        let consuming = Task { () -> Int in
            var received = 0, awaited = Set<Int32>()
            for await event in consumer.events {
                switch event {
                case .connected:
                    awaited = Set(consumerTopics.compactMap { try? consumer.subscribe($0, qos: 0, retainedToo: false) })
                case .subscribed(let id, _):
                    awaited.remove(id)
                    if awaited.isEmpty { consumerSubscribed.yield() }
                case .message:
                    received += 1
                default:
                    continue
                }
            }
            return received
        }
        for await _ in consumerReady { break }

        // The clock: windows and health at their simulated times.
        var steady = Tally()
        var random = SystemRandomNumberGenerator()
        let epoch = (Date().timeIntervalSince1970 / windowLength).rounded(.down) * windowLength
        let runStart = ContinuousClock.now
        var events: [(time: Double, kind: String)] = []
        for k in stride(from: windowLength, through: simulatedSeconds, by: windowLength) {
            events.append((k, "window"))
        }
        for k in stride(from: healthInterval, through: simulatedSeconds, by: healthInterval) {
            events.append((k, "health"))
        }
        events.sort { $0.time < $1.time || ($0.time == $1.time && $0.kind > $1.kind) }
        var sequence: UInt64 = 0
        for event in events {
            let due = runStart + .seconds(event.time / speed)
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
            var messages: [MQTTMessage] = []
            messages.reserveCapacity(devices * 2)
            if event.kind == "window" {
                sequence += 1
                for index in 0..<devices {
                    let layout = layout(index)
                    let window = Self.window(
                        sequence: sequence, end: epoch + event.time, length: windowLength, random: &random)
                    let document = TelemetryDocuments.counts(
                        window, device: layout.device, kAnonymity: 1, replayed: false)
                    messages.append(MQTTMessage(topic: layout.counts, text: document, qos: 1))
                    steady.add("counts", messages.last!)
                    messages.append(MQTTMessage(topic: layout.state, text: document, qos: 1, retain: true))
                    steady.add("state", messages.last!)
                }
            } else {
                for index in 0..<devices {
                    let layout = layout(index)
                    let health = TelemetryDocuments.Health(
                        uptime: event.time, version: "0.1.0", cameraState: "camera /dev/video0", configuredRate: 2,
                        effectiveRate: 1.98, inferenceMilliseconds: 48.3,
                        cpuPercent: Double.random(in: 15...35, using: &random),
                        residentMemory: 150 << 20, temperature: Double.random(in: 45...65, using: &random),
                        bufferedWindows: 0,
                        oldestUnsentSeconds: nil, droppedWindows: 0,
                        lastHour: .init(
                            people: Int.random(in: 0...120, using: &random), windows: 60, suppressedWindows: 0))
                    messages.append(
                        MQTTMessage(
                            topic: layout.health,
                            text: TelemetryDocuments.health(
                                health, device: layout.device,
                                at: epoch + event.time),
                            qos: 1, retain: true))
                    steady.add("health", messages.last!)
                }
            }
            await send(messages)
        }
        let runSeconds = (ContinuousClock.now - runStart).seconds
        for client in clients { client.stop() }
        try? await Task.sleep(for: .seconds(1))  // the last deliveries to the consumer
        consumer.stop()
        let consumed = await consuming.value
        return (
            Result(
                perConnect: perConnect, steady: steady, simulatedSeconds: simulatedSeconds,
                announceSeconds: announceSeconds, runSeconds: runSeconds, consumed: consumed), responder
        )
    }

    /// A window of a few people, split by gender and age as a real one is.
    static func window(sequence: UInt64, end: Double, length: Double, random: inout SystemRandomNumberGenerator)
        -> CountWindow
    {
        var window = CountWindow(sequence: sequence, start: end - length, end: end)
        window.people = Int.random(in: 0...6, using: &random)
        for _ in 0..<window.people {
            let gender: Gender? = [Gender.male, .female, nil].randomElement(using: &random)!
            let group: AgeGroup? = (AgeGroup.allCases.map { Optional($0) } + [nil]).randomElement(using: &random)!
            window.gender[gender, default: 0] += 1
            window.ageGroups[group, default: 0] += 1
            window.genderAge[gender, default: [:]][group, default: 0] += 1
            window.dwells.append(Double.random(in: 1...30, using: &random))
        }
        window.framesAnalysed = Int(length * 2)
        return window
    }

    static func waitConnected(_ client: MQTTClient) async throws {
        for await event in client.events {
            switch event {
            case .connected: return
            case .refused(let reason): throw NotConnected(reason: "the broker refused the connection: \(reason)")
            default: continue
            }
        }
        throw NotConnected(reason: "the client stopped before it connected")
    }

    public struct NotConnected: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "the simulated fleet could not connect: \(reason)" }
    }

    /// Answers `config/set` for every simulated device as an agent does: applies
    /// (refusing a stale `config_version`), answers, republishes `config/state`.
    public final class Responder: Sendable {
        private let client: MQTTClient
        private let task: Task<Void, Never>

        private init(client: MQTTClient, task: Task<Void, Never>) {
            self.client = client
            self.task = task
        }

        static func start(settings: MQTTSettings, simulation: FleetSimulation) async throws -> Responder {
            var own = settings
            own.clientID = settings.clientID + "-responder"
            let client = try MQTTClient(settings: own, eventsKept: nil)
            try client.start()
            let prefix = simulation.prefix, discoveryPrefix = simulation.discoveryPrefix
            let ready = AsyncStream<Void>.makeStream()
            let task = Task {
                var versions: [String: Int] = [:]
                for await event in client.events {
                    switch event {
                    case .connected:
                        _ = try? client.subscribe(prefix + "/+/config/set", qos: 0, retainedToo: false)
                    case .subscribed:
                        ready.continuation.yield()
                    case .message(let message):
                        let parts = message.topic.split(separator: "/")
                        guard parts.count >= 3 else { continue }
                        let device = String(parts[parts.count - 3])
                        let layout = TopicLayout(prefix: prefix, device: device, discoveryPrefix: discoveryPrefix)
                        let request = (try? JSONValue.parse(json: Data(message.payload)))?.object ?? [:]
                        let version = versions[device, default: 0]
                        var answer: [String: JSONValue] = ["transaction": request["transaction"] ?? .null]
                        if let expected = request["config_version"], expected != .int(version) {
                            answer.merge([
                                "status": .string("error"), "config_version": .int(version),
                                "error": .string(
                                    "config_version \(expected) is stale: the configuration is at version \(version) now"
                                ),
                            ]) { $1 }
                        } else {
                            versions[device] = version + 1
                            answer.merge([
                                "status": .string("ok"), "config_version": .int(version + 1),
                                "restart_required": .array([]),
                                "applied": .object(
                                    request.filter { $0.key != "transaction" && $0.key != "config_version" }),
                            ]) { $1 }
                        }
                        let text = JSONValue.object(answer).json
                        let reply = MQTTMessage(
                            topic: message.responseTopic ?? layout.configResult, text: text, qos: 1,
                            correlationData: message.correlationData)
                        Task { _ = try? await client.publish(reply) }
                        let state = JSONValue.object([
                            "schema": .string("edgecensus.config-state/1"),
                            "config_version": .int(versions[device, default: 0]),
                            "config": .object([:]), "overrides": .object([:]),
                        ]).json
                        Task {
                            _ = try? await client.publish(
                                MQTTMessage(topic: layout.configState, text: state, qos: 1, retain: true))
                        }
                    default:
                        continue
                    }
                }
            }
            let timeout = Task {
                try? await Task.sleep(for: .seconds(30)); ready.continuation.finish()
            }
            for await _ in ready.stream { break }
            timeout.cancel()
            return Responder(client: client, task: task)
        }

        public func stop() {
            client.stop()
            task.cancel()
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
