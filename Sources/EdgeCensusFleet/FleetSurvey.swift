public import EdgeCensusTelemetry
import Foundation

/// Reads the fleet from the broker: subscribes to every device's retained
/// `status`, `state`, `health` and `config/state` under the topic prefix and makes
/// one `DeviceReport` per device found. Read-only: it publishes nothing.
///
/// MQTT does not say when the retained messages are all delivered; the survey ends
/// once no retained message has come for `quietPeriod` seconds after the broker
/// answered the subscriptions (live messages, which keep coming from a busy fleet,
/// are taken in but do not hold it open), or at `timeout`.
public struct FleetSurvey: Sendable {
    public var settings: MQTTSettings
    public var prefix: String
    public var quietPeriod: Double
    public var timeout: Double

    public init(settings: MQTTSettings, prefix: String, quietPeriod: Double = 0.5, timeout: Double = 10) {
        self.settings = settings
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.quietPeriod = quietPeriod
        self.timeout = timeout
    }

    public struct NoBroker: Error, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var seconds: Double
        public var reason: String?
        public var description: String {
            "could not read the fleet from the broker \(host):\(port) within \(Int(seconds)) s"
                + (reason.map { ": \($0)" } ?? "")
                + "; check --mqtt, mqtt.host/port and the credentials in the configuration file"
        }
    }

    /// The device id and topic kind of `<prefix>/<device>/<kind>`, if it is one of ours.
    public func split(topic: String) -> (device: String, kind: String)? {
        guard topic.hasPrefix(prefix + "/") else { return nil }
        let rest = topic.dropFirst(prefix.count + 1)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let device = String(rest[..<slash]), kind = String(rest[rest.index(after: slash)...])
        guard !device.isEmpty, DeviceReport.topicKinds.contains(kind) else { return nil }
        return (device, kind)
    }

    /// Every device with at least one retained document, sorted by id.
    public func run() async throws -> [DeviceReport] {
        // Every retained message of the fleet arrives in a burst: keep all the events.
        let client = try MQTTClient(settings: settings, eventsKept: nil)
        defer { client.stop() }
        try client.start()
        let filters = DeviceReport.topicKinds.map { "\(prefix)/+/\($0)" }
        let survey = self
        let reading = Task { () throws -> [String: DeviceReport] in
            var reports: [String: DeviceReport] = [:]
            var awaited: Set<Int32> = []
            var subscribed = false
            var lastRetained = ContinuousClock.now
            var lastProblem: String?
            let deadline = ContinuousClock.now + .seconds(survey.timeout)
            // A tick that wakes the loop to check the quiet period and the deadline.
            let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                    tick.yield()
                }
            }
            defer { ticker.cancel() }
            let merged = AsyncStream<MQTTEvent?> { continuation in
                let a = Task {
                    for await event in client.events { continuation.yield(event) }; continuation.finish()
                }
                let b = Task { for await _ in ticks { continuation.yield(nil) } }
                continuation.onTermination = { _ in
                    a.cancel(); b.cancel()
                }
            }
            for await event in merged {
                let now = ContinuousClock.now
                if subscribed && awaited.isEmpty && now - lastRetained >= .seconds(survey.quietPeriod) {
                    return reports
                }
                if now >= deadline {
                    if subscribed && awaited.isEmpty { return reports }
                    throw NoBroker(
                        host: survey.settings.host, port: survey.settings.port, seconds: survey.timeout,
                        reason: lastProblem)
                }
                switch event {
                case .connected?:
                    guard !subscribed else { continue }
                    subscribed = true
                    for filter in filters {
                        if let id = try? client.subscribe(filter, qos: 0) { awaited.insert(id) }
                    }
                    lastRetained = ContinuousClock.now
                case .subscribed(let id, _)?:
                    awaited.remove(id)
                    lastRetained = ContinuousClock.now
                case .message(let message)?:
                    // An empty message clears a retained one (a device renamed, its old topics cleared): no document.
                    guard !message.payload.isEmpty, let (device, kind) = survey.split(topic: message.topic) else {
                        continue
                    }
                    if message.retain { lastRetained = ContinuousClock.now }
                    reports[device, default: DeviceReport(device: device)].absorb(kind: kind, payload: message.payload)
                case .refused(let reason)?:
                    throw NoBroker(
                        host: survey.settings.host, port: survey.settings.port, seconds: survey.timeout,
                        reason: "it refused the connection: \(reason)")
                case .problem(let problem)?:
                    lastProblem = problem.text
                case .disconnected(let text)?:
                    lastProblem = text
                default:
                    continue
                }
            }
            return reports
        }
        // Devices whose every retained message was cleared leave nothing to show.
        return try await reading.value.values
            .filter { $0.status != nil || $0.lastWindowEnd != nil || $0.healthTime != nil || $0.configVersion != nil }
            .sorted { $0.device < $1.device }
    }
}
