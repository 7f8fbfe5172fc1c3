import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Synchronization
import Testing

/// A broker with TLS and password authentication, certificates made by the test.
@Suite("MQTT with TLS and a password", .tags(.broker), .serialized)
struct MQTTSecurityTests {
    struct Fixture {
        let directory: TemporaryDirectory
        let broker: MosquittoBroker
        var file: (String) -> String { directory.file }
    }

    static func fixture() throws -> Fixture {
        let directory = try TemporaryDirectory()
        let d = directory.path
        try writeFile(directory.file("san.ext"), Data("subjectAltName=IP:127.0.0.1\n".utf8))
        try writeFile(directory.file("password"), Data("right-password\n".utf8))
        try writeFile(directory.file("wrong-password"), Data("wrong-password\n".utf8))
        let commands = [
            [
                "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/ca.key", "-out",
                "\(d)/ca.pem", "-days", "2", "-subj", "/CN=EdgeCensus test CA",
            ],
            [
                "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/other.key",
                "-out", "\(d)/other-ca.pem", "-days", "2", "-subj", "/CN=Some other CA",
            ],
            [
                "/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/server.key", "-out",
                "\(d)/server.csr", "-subj", "/CN=127.0.0.1",
            ],
            [
                "/usr/bin/openssl", "x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey",
                "\(d)/ca.key", "-CAcreateserial", "-out", "\(d)/server.pem", "-days", "2", "-extfile", "\(d)/san.ext",
            ],
            ["/usr/bin/mosquitto_passwd", "-b", "-c", "\(d)/passwords", "counter", "right-password"],
            ["/bin/chmod", "644", "\(d)/server.key", "\(d)/passwords"],
        ]
        for command in commands {
            let result = try ProcessRunner.run(command[0], Array(command.dropFirst()))
            try #require(result.status == 0, "\(command.joined(separator: " ")): \(result.standardError)")
        }
        let broker = try MosquittoBroker(
            extraConfiguration: """
                cafile \(d)/ca.pem
                certfile \(d)/server.pem
                keyfile \(d)/server.key
                password_file \(d)/passwords
                allow_anonymous false
                """)
        return Fixture(directory: directory, broker: broker)
    }

    static func settings(_ fixture: Fixture, ca: String, passwordFile: String) -> MQTTSettings {
        var settings = MQTTSettings.loopback(
            port: fixture.broker.port, clientID: "secure-\(UUID().uuidString.prefix(6))")
        settings.username = "counter"
        settings.passwordFile = fixture.file(passwordFile)
        settings.tls = MQTTSettings.TLS(caFile: fixture.file(ca))
        return settings
    }

    /// Runs a publisher with these files until it logs a line that matches, and returns that line.
    static func logLine(ca: String, passwordFile: String, matching match: (String) -> Bool) async throws -> String {
        let fixture = try Self.fixture()
        let lines = LogLines()
        let publisher = try TelemetryPublisher(
            settings: settings(fixture, ca: ca, passwordFile: passwordFile),
            layout: TopicLayout(device: "secure"), kAnonymity: 0, discovery: false,
            version: "test", logger: recordingLogger { lines.append($0) })
        let running = Task { try await publisher.run() }
        let line = try await lines.wait(for: match)
        await publisher.shutdown()
        _ = await running.result
        return line
    }

    /// The first event that is not a message, within a generous time.
    static func firstEvent(_ client: MQTTClient) async -> MQTTEvent? {
        let task = Task { () -> MQTTEvent? in
            for await event in client.events {
                if case .message = event { continue }
                return event
            }
            return nil
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(60)); task.cancel()
        }
        let event = await task.value
        timeout.cancel()
        return event
    }

    @Test("the right CA and password connect over TLS")
    func connects() async throws {
        let fixture = try Self.fixture()
        let client = try MQTTClient(settings: Self.settings(fixture, ca: "ca.pem", passwordFile: "password"))
        try client.start()
        #expect(await Self.firstEvent(client) == .connected)
        let ack = try await client.publish(MQTTMessage(topic: "secure/test", text: "hello", qos: 1))
        #expect(ack.isSuccess)
        client.stop()
    }

    @Test("a wrong password is refused, and the log line says what to check")
    func wrongPassword() async throws {
        let line = try await Self.logLine(ca: "ca.pem", passwordFile: "wrong-password") {
            $0.contains("refused the connection")
        }
        #expect(
            line.lowercased().contains("not authorized") || line.lowercased().contains("bad user name or password"),
            "\(line)")
        #expect(line.contains("mqtt.password_file"))
    }

    @Test("a wrong CA fails the TLS handshake, and the log line names mqtt.tls.ca_file")
    func wrongCA() async throws {
        let line = try await Self.logLine(ca: "other-ca.pem", passwordFile: "password") { $0.contains("failed") }
        #expect(line.contains("certificate verify failed"), "\(line)")
        #expect(line.contains("mqtt.tls.ca_file"))
    }

    @Test("an unreadable CA file or password file is refused before connecting")
    func unreadableFiles() throws {
        let fixture = try Self.fixture()
        let tls = thrownError(MQTTError.self) {
            try MQTTClient(settings: Self.settings(fixture, ca: "missing.pem", passwordFile: "password"))
        }
        #expect(tls?.kind == .setup)
        let error = thrownError(MQTTError.self) {
            try MQTTClient(settings: Self.settings(fixture, ca: "ca.pem", passwordFile: "missing-password"))
        }
        #expect(error?.kind == .setup)
        #expect(error?.description.contains("mqtt.password_file") == true)
    }
}

/// Log lines collected from a publisher, to wait on.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func wait(seconds: Double = 60, for match: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = lines.withLock({ $0.first(where: match) }) { return line }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no matching log line; got \(lines.withLock { $0 })")
        return ""
    }
}
