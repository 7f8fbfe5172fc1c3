public import EdgeCensusTelemetry
public import Foundation
import Testing

/// Collects what a subscriber receives, to wait on.
public actor Inbox {
    public private(set) var messages: [MQTTMessage] = []
    public func add(_ message: MQTTMessage) { messages.append(message) }
    public func on(_ topic: String) -> [MQTTMessage] { messages.filter { $0.topic == topic } }
}

/// A subscriber made with the project's own client.
public struct Subscriber {
    public let client: MQTTClient
    public let inbox = Inbox()
    let task: Task<Void, Never>

    /// `persistentSession`: MQTT 3.1.1 with a kept session, so that the broker queues
    /// QoS 1 messages for it while it is away (give a fixed `id`).
    /// `username`/`passwordFile`: log in (for a broker with a password file).
    public init(
        port: Int, topics: [String], id: String = "subscriber-\(UUID().uuidString.prefix(8))",
        persistentSession: Bool = false, username: String? = nil, passwordFile: String? = nil
    ) async throws {
        var settings = MQTTSettings.loopback(port: port, clientID: id)
        settings.username = username
        settings.passwordFile = passwordFile
        if persistentSession {
            settings.protocolVersion = .v311
            settings.cleanSession = false
        }
        let client = try MQTTClient(settings: settings)
        self.client = client
        let inbox = self.inbox
        let subscribed = AsyncStream<Void>.makeStream()
        task = Task {
            var awaited: Set<Int32> = []
            for await event in client.events {
                switch event {
                case .connected:
                    awaited = Set(topics.compactMap { try? client.subscribe($0) })
                    if awaited.isEmpty { subscribed.continuation.yield() }
                case .subscribed(let mid, _):
                    // Subscribed once the broker has answered every subscription.
                    if awaited.remove(mid) != nil && awaited.isEmpty { subscribed.continuation.yield() }
                case .message(let message): await inbox.add(message)
                default: break
                }
            }
        }
        try client.start()
        // Wait for the broker's answer to every subscription, but never for ever.
        let timeout = Task {
            try? await Task.sleep(for: .seconds(60)); subscribed.continuation.finish()
        }
        for await _ in subscribed.stream { break }
        timeout.cancel()
    }

    /// Waits (generously, on the event not on a clock) until `count` messages arrived on `topic`.
    public func wait(for topic: String, count: Int = 1, seconds: Double = 60) async throws -> [MQTTMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let found = await inbox.on(topic)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(count) message(s) on \(topic)")
        return await inbox.on(topic)
    }

    /// Waits until a message on `topic` satisfies `condition` and returns the first that does
    /// (a result and the state it changed are two messages: one may arrive before the other).
    public func wait(for topic: String, seconds: Double = 60, until condition: (MQTTMessage) -> Bool) async throws
        -> MQTTMessage?
    {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = await inbox.on(topic).first(where: condition) { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for the message awaited on \(topic)")
        return nil
    }

    public func stop() {
        client.stop()
        task.cancel()
    }
}

extension MQTTSettings {
    /// A client of a test broker on loopback, retrying quickly so that tests never wait out a long backoff.
    public static func loopback(port: Int, clientID: String) -> MQTTSettings {
        var settings = MQTTSettings()
        settings.host = "127.0.0.1"
        settings.port = port
        settings.clientID = clientID
        settings.reconnectDelayMax = 2
        return settings
    }
}
