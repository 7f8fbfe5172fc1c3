public import EdgeCensusConfiguration
public import EdgeCensusSupport
public import EdgeCensusTelemetry
import Foundation

/// The operator's side: sends one request to a device's `config/set` or
/// `config/get` and waits for its answer. With MQTT 5 the answer comes on a
/// response topic of this request's own (with correlation data); with 3.1.1 it is
/// picked from `config/result` by its transaction id.
public enum RemoteConfigurationClient {
    public enum Request: Sendable {
        case set(JSONValue)
        case get
    }

    public struct NoAnswer: Error, CustomStringConvertible {
        public var device: String
        public var seconds: Double
        public var description: String {
            "no answer from device '\(device)' within \(Int(seconds)) s: is it running, connected to this broker, and is its device.id '\(device)'?"
        }
    }

    /// The broker would not let this client in (bad credentials, not authorised).
    public struct BrokerRefused: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "the broker refused the connection: \(reason)" }
    }

    /// Returns the answer document (JSON text).
    public static func send(_ request: Request, settings: MQTTSettings, layout: TopicLayout, timeout: Double)
        async throws -> String
    {
        let answers: [String: String]
        do {
            answers = try await send(request, settings: settings, layouts: [layout], timeout: timeout)
        } catch let refused as BrokerRefused {
            return JSONValue.object(["status": .string("error"), "error": .string(refused.description)]).json
        }
        guard let answer = answers[layout.device] else { throw NoAnswer(device: layout.device, seconds: timeout) }
        return answer
    }

    /// Sends one request to each device over one connection and returns the answers
    /// that came within `timeout` seconds of sending, by device id (a device missing
    /// from the result did not answer). Each device gets a transaction of its own;
    /// with MQTT 5 the answers come on one response topic level of this run's
    /// (`<prefix>/<device>/config/result/<run>`, correlation data = the transaction),
    /// with 3.1.1 they are picked from `config/result` by transaction.
    public static func send(
        _ request: Request, settings: MQTTSettings, layouts: [TopicLayout],
        timeout: Double
    ) async throws -> [String: String] {
        guard let first = layouts.first else { return [:] }
        let run = "cli-" + UUID().uuidString.prefix(8).lowercased()
        let isV5 = settings.protocolVersion == .v5
        var transactions: [String: TopicLayout] = [:]
        var messages: [MQTTMessage] = []
        for (index, layout) in layouts.enumerated() {
            let transaction = layouts.count == 1 ? run : "\(run)-\(index)"
            transactions[transaction] = layout
            var body: [String: JSONValue] = ["transaction": .string(transaction)]
            let topic: String
            switch request {
            case .set(let patch):
                for (key, value) in patch.object ?? [:] { body[key] = value }
                topic = layout.configSet
            case .get:
                topic = layout.configGet
            }
            messages.append(
                MQTTMessage(
                    topic: topic, text: JSONValue.object(body).json, qos: 1,
                    responseTopic: isV5 ? layout.configResult + "/" + run : nil,
                    correlationData: isV5 ? Array(transaction.utf8) : nil))
        }
        // One subscription for every device's answers (all devices share the prefix).
        let prefix = first.prefix
        let answerFilter = prefix + "/+/config/result" + (isV5 ? "/" + run : "")
        let client = try MQTTClient(settings: settings, eventsKept: nil)  // a burst of answers: none may be lost
        defer { client.stop() }
        try client.start()
        let expected = transactions.count
        let collecting = Task { () throws -> [String: String] in
            var answers: [String: String] = [:]
            var sent = false
            // Until the subscription is in place: the timeout for connecting; then the timeout for the answers.
            // (A timer cancelled does not stop the client: only one that runs out does.)
            var timer = Task {
                guard (try? await Task.sleep(for: .seconds(timeout))) != nil else { return }
                client.stop()
            }
            defer { timer.cancel() }
            for await event in client.events {
                switch event {
                case .connected:
                    guard !sent else { continue }
                    // QoS 0 from the broker to us: a broker queues at most so many QoS 1
                    // messages for one client (mosquitto: 1 000), which a fleet's answers would exceed.
                    _ = try? client.subscribe(answerFilter, qos: 0, retainedToo: false)
                case .subscribed:
                    guard !sent else { continue }
                    sent = true
                    timer.cancel()
                    timer = Task {
                        guard (try? await Task.sleep(for: .seconds(timeout))) != nil else { return }
                        client.stop()
                    }
                    for message in messages {
                        Task { _ = try? await client.publish(message) }
                    }
                case .message(let message):
                    let answer = try? JSONValue.parse(json: Data(message.payload))
                    if case .string(let transaction)? = answer?.object?["transaction"],
                        let layout = transactions[transaction],
                        message.topic.hasPrefix(layout.base + "/")
                    {
                        answers[layout.device] = message.text
                        if answers.count == expected { return answers }
                    }
                case .refused(let reason):
                    throw BrokerRefused(reason: reason)
                default:
                    continue
                }
            }
            return answers
        }
        return try await collecting.value
    }

    /// `KEY=VALUE` arguments as one merge patch: `throttle.max_rate_hz=1` becomes
    /// `{"throttle":{"max_rate_hz":1}}`; a value is read as JSON when it is JSON
    /// (`1`, `true`, `null`, `"text"`), else taken as a string.
    public static func patch(from assignments: [String]) throws(ConfigurationError) -> JSONValue {
        var patch = JSONValue.object([:])
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ConfigurationError(key: assignment, problem: "expected KEY=VALUE, such as throttle.max_rate_hz=1")
            }
            let key = String(assignment[..<equals]), text = String(assignment[assignment.index(after: equals)...])
            let value = (try? JSONValue.parse(json: Data(text.utf8))) ?? .string(text)
            // An explicit null stays in the patch (merging would drop it): it asks for the local value back.
            patch = value == .null ? patch.settingNull(at: key) : patch.merging(patch: .nested(key, value))
        }
        return patch
    }
}

extension JSONValue {
    /// This object with `null` at the dotted path (creating objects on the way).
    func settingNull(at path: String) -> JSONValue {
        let parts = path.split(separator: ".").map(String.init)
        guard let first = parts.first else { return self }
        var members = object ?? [:]
        if parts.count == 1 {
            members[first] = .null
        } else {
            members[first] = (members[first] ?? .object([:])).settingNull(at: parts.dropFirst().joined(separator: "."))
        }
        return .object(members)
    }
}
