import EdgeCensusConfiguration
public import EdgeCensusLogging
import EdgeCensusSupport
public import EdgeCensusTelemetry
import Foundation
import Synchronization

/// Remote configuration over MQTT, under the device's topics:
/// `config/set` (a JSON merge patch, optional `transaction` and `config_version`),
/// `config/get`, answers on `config/result` (and, with MQTT 5, on the request's
/// Response Topic with its Correlation Data), and the retained `config/state`.
///
/// Requests are handled one at a time. An accepted change is persisted before it is
/// answered and then handed to `apply`, which puts it into the running agent.
public final class RemoteConfigurationService: MQTTParticipant {
    private let remote: Mutex<RemoteConfiguration>
    public let layout: TopicLayout
    private let apply: @Sendable (RemoteConfiguration.Change) -> Void
    private let logger: AgentLogger

    public init(
        remote: RemoteConfiguration, layout: TopicLayout,
        apply: @escaping @Sendable (RemoteConfiguration.Change) -> Void, logger: AgentLogger
    ) {
        self.remote = Mutex(remote)
        self.layout = layout
        self.apply = apply
        self.logger = logger
    }

    /// The configuration in force now.
    public var current: RemoteConfiguration { remote.withLock { $0 } }

    public func connected(client: MQTTClient) async {
        do {
            // Retained requests are never applied. With MQTT 5 the broker does not send
            // those already retained (retain handling 2), and one retained while we are
            // subscribed keeps its flag (Retain As Published) and is refused. With 3.1.1
            // those already retained arrive flagged and are refused, but one retained
            // while we are subscribed arrives unflagged: 3.1.1 cannot tell it from a live one.
            try client.subscribe(layout.configSet, qos: 1, retainedToo: false, retainAsPublished: true)
            try client.subscribe(layout.configGet, qos: 1, retainedToo: false)
        } catch {
            logger.warning("remote configuration is off for this connection: \(error)")
        }
        await publishState(client: client)
    }

    public func received(_ message: MQTTMessage, client: MQTTClient) async -> Bool {
        switch message.topic {
        case layout.configSet:
            let answer = handleSet(message)
            await respond(answer, to: message, client: client)
            await publishState(client: client)
        case layout.configGet:
            await respond(getAnswer(message), to: message, client: client)
        default:
            return false
        }
        return true
    }

    /// Checks, persists and applies a `config/set` request; returns the `config/result` document.
    func handleSet(_ message: MQTTMessage) -> String {
        let (answer, accepted) = remote.withLock { remote -> (String, RemoteConfiguration.Change?) in
            switch remote.evaluate(message.payload, retained: message.retain) {
            case .failure(let refusal):
                return (remote.resultDocument(for: refusal), nil)
            case .success(let change):
                do {
                    try remote.commit(change)
                } catch {
                    let refusal = RemoteConfiguration.Refusal(
                        transaction: change.transaction,
                        reason:
                            "the change could not be saved to \(remote.overridesFile) (\(error)); nothing was changed")
                    return (remote.resultDocument(for: refusal), nil)
                }
                return (remote.resultDocument(for: change), change)
            }
        }
        if let accepted {
            let restart =
                accepted.restartRequired.isEmpty
                ? "" : "; in force after a restart: \(accepted.restartRequired.joined(separator: ", "))"
            logger.info("configuration version \(current.version): \(accepted.applied)\(restart)")
            apply(accepted)
        } else {
            logger.warning("refused a configuration request: \(answer)")
        }
        return answer
    }

    func getAnswer(_ message: MQTTMessage) -> String {
        let transaction = (try? JSONValue.parse(json: Data(message.payload)))?.object?["transaction"]
        let remote = current
        var document: [String: JSONValue] = [
            "status": .string("ok"), "config_version": .int(remote.version),
            "config": ConfigurationKeys.remoteValues(of: remote.effective),
        ]
        document["transaction"] = transaction
        return JSONValue.object(document).json
    }

    private func respond(_ answer: String, to request: MQTTMessage, client: MQTTClient) async {
        await send(MQTTMessage(topic: layout.configResult, text: answer, qos: 1), client: client)
        if let responseTopic = request.responseTopic, !responseTopic.isEmpty {
            await send(
                MQTTMessage(topic: responseTopic, text: answer, qos: 1, correlationData: request.correlationData),
                client: client)
        }
    }

    private func publishState(client: MQTTClient) async {
        await send(
            MQTTMessage(topic: layout.configState, text: current.stateDocument, qos: 1, retain: true), client: client)
    }

    private func send(_ message: MQTTMessage, client: MQTTClient) async {
        do {
            try await client.publish(message)
        } catch {
            logger.warning("\(error)")
        }
    }
}
