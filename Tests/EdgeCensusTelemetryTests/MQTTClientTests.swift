import EdgeCensusCounting
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVisionTypes
import Foundation
import Testing

@Suite("MQTT on a real broker", .tags(.broker), .serialized)
struct MQTTClientTests {
    static func publisher(
        port: Int, device: String = "test-device", discovery: Bool = true,
        discoveryRecord: String? = nil
    ) throws -> TelemetryPublisher {
        return try TelemetryPublisher(
            settings: .loopback(port: port, clientID: "edgecensus-\(device)"), layout: TopicLayout(device: device),
            kAnonymity: 0,
            discovery: discovery, version: "test", discoveryRecord: discoveryRecord, logger: recordingLogger { _ in })
    }

    static func window(sequence: UInt64) -> CountWindow {
        var window = CountWindow(sequence: sequence, start: 1_767_258_000, end: 1_767_258_060)
        window.people = 2
        window.gender = [.male: 1, .female: 1]
        return window
    }

    @Test("a QoS 1 publish is acknowledged by the broker and reaches a subscriber")
    func publishAcknowledged() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await Subscriber(port: broker.port, topics: ["t/#"])
        defer { subscriber.stop() }
        let client = try MQTTClient(settings: .loopback(port: broker.port, clientID: "publisher"))
        try client.start()
        let ack = try await client.publish(MQTTMessage(topic: "t/hello", text: "world", qos: 1))
        #expect(ack.isSuccess)
        let received = try await subscriber.wait(for: "t/hello")
        #expect(received.first?.text == "world")
        client.stop()
    }

    @Test("a publish made the moment the client starts (while it connects) is acknowledged, every time")
    func publishWhileConnecting() async throws {
        let broker = try MosquittoBroker()
        for attempt in 0..<30 {
            let client = try MQTTClient(settings: .loopback(port: broker.port, clientID: "eager-\(attempt)"))
            try client.start()
            let ack = try await withDeadline(
                seconds: 30, "acknowledgement of a publish made while connecting (attempt \(attempt))"
            ) {
                try await client.publish(MQTTMessage(topic: "t/eager", text: "\(attempt)", qos: 1))
            }
            #expect(ack.isSuccess)
            client.stop()
        }
    }

    @Test(
        "online on connect (retained), counts at QoS 1, the latest window retained on state, discovery for every sensor"
    )
    func topics() async throws {
        let broker = try MosquittoBroker()
        let publisher = try Self.publisher(port: broker.port)
        let running = Task { try await publisher.run() }
        let layout = publisher.layout
        let subscriber = try await Subscriber(port: broker.port, topics: ["edgecensus/#", "homeassistant/#"])
        defer { subscriber.stop() }
        let status = try await subscriber.wait(for: layout.status)
        #expect(status.last?.text == "online")
        try await publisher.publish(Self.window(sequence: 41))
        let counts = try await subscriber.wait(for: layout.counts)
        let document = try JSONSerialization.jsonObject(with: Data(counts[0].payload)) as? [String: Any]
        #expect(document?["seq"] as? Int == 41 && document?["replayed"] as? Bool == false)
        #expect(counts[0].retain == false)
        let sensor = try await subscriber.wait(for: layout.discovery(entity: "people"))
        let config = try JSONSerialization.jsonObject(with: Data(sensor[0].payload)) as? [String: Any]
        #expect(config?["state_topic"] as? String == layout.state)
        #expect(config?["availability_topic"] as? String == layout.status)
        // A dashboard that connects later (once all is published) gets the retained status, state and discovery.
        _ = try await subscriber.wait(for: layout.discovery(entity: "age_60_100"))
        _ = try await subscriber.wait(for: layout.state)
        let late = try await Subscriber(port: broker.port, topics: ["edgecensus/#", "homeassistant/sensor/#"])
        defer { late.stop() }
        #expect(try await late.wait(for: layout.status).first?.retain == true)
        #expect(try await late.wait(for: layout.state).first?.text.contains("\"seq\":41") == true)
        let sensors = try await late.wait(for: layout.discovery(entity: "age_60_100"))
        #expect(sensors.first?.retain == true)
        #expect(await late.inbox.on(layout.counts).isEmpty)  // counts are never retained
        await publisher.shutdown()
        _ = await running.result
        #expect(try await subscriber.wait(for: layout.status, count: 2).last?.text == "stopped")
    }

    @Test(
        "discovery configs the agent no longer announces are cleared: after a rename, and when discovery is turned off")
    func staleDiscoveryIsCleared() async throws {
        let broker = try MosquittoBroker()
        let state = try TemporaryDirectory()
        let record = state.file("discovery-topics")
        let announced = TelemetryDocuments.discovery(layout: TopicLayout(device: "hall"), version: "test").count
        /// One run of the agent's publisher, until it has remembered what it announced
        /// (`lines` topics in the record, written once its announcing and clearing is done).
        func run(device: String, discovery: Bool, lines: Int) async throws {
            let publisher = try Self.publisher(
                port: broker.port, device: device, discovery: discovery, discoveryRecord: record)
            let running = Task { try await publisher.run() }
            let deadline = Date().addingTimeInterval(60)
            func remembered() -> [String] {
                ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            let expected = TelemetryDocuments.discovery(layout: publisher.layout, version: "test")
                .map { publisher.layout.discovery(component: $0.component, entity: $0.id) }
            while Date() < deadline && !(remembered().count == lines && (lines == 0 || remembered() == expected)) {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(remembered().count == lines)
            await publisher.shutdown()
            _ = await running.result
        }
        let old = TopicLayout(device: "hall"), new = TopicLayout(device: "lobby")
        try await run(device: "hall", discovery: true, lines: announced)
        // Renamed: the new device's configs appear, the old device's are cleared (empty, retained).
        try await run(device: "lobby", discovery: true, lines: announced)
        let afterRename = try await Subscriber(port: broker.port, topics: ["homeassistant/#"])
        _ = try await afterRename.wait(for: new.discovery(component: "binary_sensor", entity: "connected"))
        let retained = await afterRename.inbox.messages
        #expect(retained.contains { $0.topic == new.discovery(entity: "people") })
        #expect(
            !retained.contains {
                $0.topic.hasPrefix(old.discoveryPrefix + "/") && $0.topic.contains("edgecensus_\(old.device)/")
            },
            "\(retained.map(\.topic).filter { $0.contains("hall") })")
        afterRename.stop()
        // Discovery turned off: everything this device announced is cleared.
        try await run(device: "lobby", discovery: false, lines: 0)
        let afterOff = try await Subscriber(port: broker.port, topics: ["homeassistant/#", "edgecensus/#"])
        _ = try await afterOff.wait(for: new.status)
        #expect(await afterOff.inbox.messages.filter { $0.topic.hasPrefix("homeassistant/") }.isEmpty)
        afterOff.stop()
    }

    @Test("discovery is republished when Home Assistant says it is online")
    func homeAssistantRestart() async throws {
        let broker = try MosquittoBroker()
        let publisher = try Self.publisher(port: broker.port)
        let running = Task { try await publisher.run() }
        let subscriber = try await Subscriber(port: broker.port, topics: ["homeassistant/sensor/#"])
        defer { subscriber.stop() }
        let topic = publisher.layout.discovery(entity: "people")
        _ = try await subscriber.wait(for: topic)
        let homeAssistant = try await Subscriber(port: broker.port, topics: [])
        try await homeAssistant.client.publish(MQTTMessage(topic: "homeassistant/status", text: "online", qos: 1))
        #expect(try await subscriber.wait(for: topic, count: 2).count >= 2)
        homeAssistant.stop()
        await publisher.shutdown()
        _ = await running.result
    }

    @Test(
        "after the broker restarts, the client reconnects and says online again; a publish made while it was away arrives"
    )
    func reconnect() async throws {
        let broker = try MosquittoBroker()
        let publisher = try Self.publisher(port: broker.port)
        let running = Task { try await publisher.run() }
        let first = try await Subscriber(port: broker.port, topics: ["edgecensus/#"])
        _ = try await first.wait(for: publisher.layout.status)
        first.stop()
        broker.stop()
        let pending = Task { try await publisher.publish(Self.window(sequence: 7)) }
        try await Task.sleep(for: .milliseconds(300))
        try broker.start()
        let subscriber = try await Subscriber(port: broker.port, topics: ["edgecensus/#"])
        defer { subscriber.stop() }
        let ack = try await pending.value
        #expect(ack.isSuccess)
        #expect(try await subscriber.wait(for: publisher.layout.status).last?.text == "online")
        await publisher.shutdown()
        _ = await running.result
    }

    @Test("a broker that is not up yet when the client starts is reported once, then connected to when it comes up")
    func brokerLate() async throws {
        let port = try MosquittoBroker.freePort()
        let client = try MQTTClient(settings: .loopback(port: port, clientID: "early-bird"))
        try client.start()
        var events = client.events.makeAsyncIterator()
        var problem: MQTTProblem?
        while problem == nil, let event = await events.next() {
            if case .problem(let found) = event { problem = found }
        }
        #expect(problem?.text.lowercased().contains("refused") == true, "\(problem?.text ?? "none")")
        #expect(problem?.kind == .network)
        let broker = try MosquittoBroker(port: port)
        var connected = false
        while let event = await events.next() {
            if event == .connected { connected = true; break }
        }
        #expect(connected)
        let ack = try await client.publish(MQTTMessage(topic: "t/late", text: "here", qos: 1))
        #expect(ack.isSuccess)
        client.stop()
        broker.stop()
    }

    @Test("publishing after stop fails at once instead of waiting for an acknowledgement that cannot come")
    func publishAfterStop() async throws {
        let broker = try MosquittoBroker()
        let client = try MQTTClient(settings: .loopback(port: broker.port, clientID: "stopped"))
        try client.start()
        client.stop()
        let late = await thrownError(MQTTError.self) {
            try await client.publish(MQTTMessage(topic: "t/x", text: "late", qos: 1))
        }
        #expect(late?.kind == .stopped)
        #expect(throws: MQTTError.self) { try client.subscribe("t/#") }
    }

    @Test("a refused connection is reported with the broker's reason")
    func refused() async throws {
        let broker = try MosquittoBroker(extraConfiguration: "allow_anonymous false\n")
        let client = try MQTTClient(settings: .loopback(port: broker.port, clientID: "anonymous"))
        try client.start()
        var refusal: String?
        for await event in client.events {
            if case .refused(let reason) = event { refusal = reason; break }
        }
        client.stop()
        #expect(refusal?.lowercased().contains("not authorized") == true, "\(refusal ?? "none")")
    }
}

@Suite("MQTT against a broker that does not answer", .tags(.slow))
struct SilentBrokerTests {
    @Test("a socket that accepts but never answers is named as such, not 'Unknown error.'")
    func muteBroker() async throws {
        // A listening socket that accepts connections and never says a word.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        #expect(listen(listener, 8) == 0)
        var settings = MQTTSettings.loopback(port: Int(UInt16(bigEndian: address.sin_port)), clientID: "mute-test")
        settings.keepalive = 5
        let client = try MQTTClient(settings: settings)
        try client.start()
        defer { client.stop() }
        let problem = try await withDeadline(seconds: 60, "a problem event from the mute broker") {
            () async throws -> String in
            for await event in client.events {
                if case .problem(let found) = event { return found.text }
            }
            return ""
        }
        #expect(problem.contains("no answer from the broker within the keepalive"), "\(problem)")
        #expect(!problem.contains("Unknown error"))
    }
}
