import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `etc/mosquitto/edgecensus.acl` on a real mosquitto with one password per device:
/// a real agent does all it does without one denial, the operator's tools work,
/// and a device's credentials reach none of another device's topics.
@Suite("The example broker ACL", .tags(.broker), .serialized)
struct BrokerACLExampleTests {
    let broker: MosquittoBroker
    let directory: TemporaryDirectory
    static let users = ["shop-1", "shop-2", "operator", "homeassistant"]

    init() throws {
        directory = try TemporaryDirectory()
        let passwords = directory.file("passwd")
        for (index, user) in Self.users.enumerated() {
            try writeFile(directory.file("\(user).password"), Data("pw-\(user)\n".utf8))
            let made = try ProcessRunner.run(
                "/usr/bin/mosquitto_passwd", (index == 0 ? ["-c"] : []) + ["-b", passwords, user, "pw-\(user)"])
            guard made.status == 0 else { throw POSIXError(.EINVAL) }
        }
        broker = try MosquittoBroker(
            extraConfiguration: """
                allow_anonymous false
                password_file \(passwords)
                acl_file \(TestPaths.repository)/etc/mosquitto/edgecensus.acl
                log_type all
                """)
    }

    func login(_ user: String, topics: [String]) async throws -> Subscriber {
        try await Subscriber(
            port: broker.port, topics: topics, id: "\(user)-\(UUID().uuidString.prefix(4))",
            username: user, passwordFile: directory.file("\(user).password"))
    }

    func configFile(device: String, user: String) throws -> String {
        let path = directory.file("\(user).yaml")
        try writeFile(
            path,
            Data(
                """
                device: {id: \(device)}
                source: {kind: camera, device: /dev/edgecensus-absent}
                windows: {length: 2}
                state: {directory: \(directory.file("state-\(device)"))}
                mqtt: {host: 127.0.0.1, port: \(broker.port), username: \(user), password_file: \(directory.file("\(user).password")),
                       health_interval: 1, discovery: true}
                """.utf8))
        return path
    }

    @Test(
        "a real agent logged in as its device publishes, answers and announces itself without one denial; the operator's tools work"
    )
    func agentAndOperator() async throws {
        let homeAssistant = try await login("homeassistant", topics: ["homeassistant/#"])
        defer { homeAssistant.stop() }
        let operatorView = try await login("operator", topics: ["edgecensus/#"])
        defer { operatorView.stop() }
        let agent = try BackgroundAgent.start(
            config: try configFile(device: "shop-1", user: "shop-1"), log: directory.file("agent.log"))
        defer { BackgroundAgent.kill(agent) }
        for topic in ["status", "state", "health", "config/state"] {
            _ = try await operatorView.wait(for: "edgecensus/shop-1/\(topic)", seconds: 120)
        }
        _ = try await homeAssistant.wait(for: "homeassistant/binary_sensor/edgecensus_shop-1/connected/config")
        #expect(await homeAssistant.inbox.messages.count >= 52)
        // Home Assistant restarts: the agent hears it and announces again.
        try await homeAssistant.client.publish(MQTTMessage(topic: "homeassistant/status", text: "online", qos: 1))

        let operatorConfig = try configFile(device: "shop-1", user: "operator")
        let set = try ProcessRunner.run(
            TestPaths.executable,
            ["config", "set", "throttle.max_rate_hz=1", "--device", "shop-1", "--config", operatorConfig])
        #expect(
            set.status == 0 && set.standardOutput.contains("\"status\":\"ok\""),
            "\(set.standardOutput) \(set.standardError)")
        let status = try ProcessRunner.run(
            TestPaths.executable, ["fleet", "status", "--config", operatorConfig, "--quiet", "2", "--timeout", "60"])
        #expect(
            status.status == 0 && status.standardOutput.contains("shop-1") && status.standardOutput.contains("online"),
            "\(status.standardOutput)")
        _ = try await homeAssistant.wait(
            for: "homeassistant/binary_sensor/edgecensus_shop-1/connected/config", count: 2)
        let denials = broker.log.split(separator: "\n").filter { $0.contains("Denied") }
        #expect(denials.isEmpty, "\(denials)")
    }

    @Test("device A cannot publish to device B's topics or its discovery, nor read B's config/set; B reads its own")
    func devicesStayInTheirLane() async throws {
        let operatorView = try await login("operator", topics: ["edgecensus/#", "homeassistant/#"])
        defer { operatorView.stop() }
        let deviceA = try await login("shop-1", topics: ["edgecensus/+/config/set", "edgecensus/shop-2/config/set"])
        defer { deviceA.stop() }
        let deviceB = try await login("shop-2", topics: ["edgecensus/shop-2/config/set"])
        defer { deviceB.stop() }

        // A poses as B: the broker refuses each (MQTT 5: PUBACK "not authorized") and forwards none.
        let forged = [
            "edgecensus/shop-2/state", "edgecensus/shop-2/status", "edgecensus/shop-2/counts",
            "edgecensus/shop-2/config/result",
            "edgecensus/shop-2/config/state", "edgecensus/shop-2/config/set",
            "homeassistant/sensor/edgecensus_shop-2/people/config",
        ]
        for topic in forged {
            let ack = try await deviceA.client.publish(
                MQTTMessage(topic: topic, text: "{\"forged\":true}", qos: 1, retain: true))
            #expect(!ack.isSuccess, "\(topic) accepted from shop-1")
        }
        let own = try await deviceA.client.publish(
            MQTTMessage(topic: "edgecensus/shop-1/counts", text: "{\"own\":true}", qos: 1))
        #expect(own.isSuccess)
        _ = try await operatorView.wait(for: "edgecensus/shop-1/counts")
        #expect(await operatorView.inbox.messages.filter { $0.topic.contains("shop-2") }.isEmpty)

        // The operator changes B, then A: A hears only its own request.
        try await operatorView.client.publish(
            MQTTMessage(topic: "edgecensus/shop-2/config/set", text: "{\"for\":\"shop-2\"}", qos: 1))
        try await operatorView.client.publish(
            MQTTMessage(topic: "edgecensus/shop-1/config/set", text: "{\"for\":\"shop-1\"}", qos: 1))
        _ = try await deviceB.wait(for: "edgecensus/shop-2/config/set")
        _ = try await deviceA.wait(for: "edgecensus/shop-1/config/set")
        #expect(await deviceA.inbox.messages.map(\.topic) == ["edgecensus/shop-1/config/set"])
        #expect(broker.log.contains("Denied PUBLISH from shop-1"), "the broker logs the forgeries")
    }
}
