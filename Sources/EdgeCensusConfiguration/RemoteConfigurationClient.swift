public import EdgeCensusTelemetry
import Foundation

/// The operator's side: sends one request to a device's `config/set` or
/// `config/get` and waits for its answer. With MQTT 5 the answer comes on a
/// response topic of this request's own (with correlation data); with 3.1.1 it is
/// picked from `config/result` by its transaction id.
public enum RemoteConfigurationClient {
    public enum Request: Sendable {
        case set(ConfigurationValue)
        case get
    }

    public struct NoAnswer: Error, CustomStringConvertible {
        public var device: String
        public var seconds: Double
        public var description: String {
            "no answer from device '\(device)' within \(Int(seconds)) s: is it running, connected to this broker, and is its device.id '\(device)'?"
        }
    }

    /// Returns the answer document (JSON text).
    public static func send(_ request: Request, settings: MQTTSettings, layout: TopicLayout, timeout: Double) async throws -> String {
        let transaction = "cli-" + UUID().uuidString.prefix(8).lowercased()
        let replyTopic = layout.configResult + "/" + transaction
        var body: [String: ConfigurationValue] = ["transaction": .string(transaction)]
        let topic: String
        switch request {
        case .set(let patch):
            for (key, value) in patch.object ?? [:] { body[key] = value }
            topic = layout.configSet
        case .get:
            topic = layout.configGet
        }
        let client = try MQTTClient(settings: settings)
        defer { client.stop() }
        try client.start()
        let isV5 = settings.protocolVersion == .v5
        let answers = Task { () -> String? in
            var sent = false
            for await event in client.events {
                switch event {
                case .connected:
                    guard !sent else { continue }
                    sent = true
                    _ = try? client.subscribe(isV5 ? replyTopic : layout.configResult, qos: 1, retainedToo: false)
                case .subscribed:
                    let message = MQTTMessage(topic: topic, text: ConfigurationValue.object(body).json, qos: 1,
                                              responseTopic: isV5 ? replyTopic : nil, correlationData: isV5 ? Array(transaction.utf8) : nil)
                    _ = try? await client.publish(message)
                case .message(let message):
                    let answer = try? ConfigurationValue.parse(json: Data(message.payload))
                    if answer?.object?["transaction"] == .string(transaction) { return message.text }
                case .refused(let reason):
                    return "{\"status\":\"error\",\"error\":\"the broker refused the connection: \(reason)\"}"
                default:
                    continue
                }
            }
            return nil
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(timeout))
            client.stop()
        }
        defer { timer.cancel() }
        guard let answer = await answers.value else { throw NoAnswer(device: layout.device, seconds: timeout) }
        return answer
    }

    /// `KEY=VALUE` arguments as one merge patch: `throttle.max_rate_hz=1` becomes
    /// `{"throttle":{"max_rate_hz":1}}`; a value is read as JSON when it is JSON
    /// (`1`, `true`, `null`, `"text"`), else taken as a string.
    public static func patch(from assignments: [String]) throws(ConfigurationError) -> ConfigurationValue {
        var patch = ConfigurationValue.object([:])
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ConfigurationError(key: assignment, problem: "expected KEY=VALUE, such as throttle.max_rate_hz=1")
            }
            let key = String(assignment[..<equals]), text = String(assignment[assignment.index(after: equals)...])
            let value = (try? ConfigurationValue.parse(json: Data(text.utf8))) ?? .string(text)
            // An explicit null stays in the patch (merging would drop it): it asks for the local value back.
            patch = value == .null ? patch.settingNull(at: key) : patch.merging(patch: .nested(key, value))
        }
        return patch
    }
}

extension ConfigurationValue {
    /// This object with `null` at the dotted path (creating objects on the way).
    func settingNull(at path: String) -> ConfigurationValue {
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
