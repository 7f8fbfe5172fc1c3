public import EdgeCensusTelemetry

/// `mqtt`: where and how the agent publishes. MQTT is off while `host` is empty
/// (the agent then writes each window as a JSON line to standard output).
public struct MQTTConfiguration: Sendable, Equatable {
    public var host = ""
    public var port = 1883
    /// Empty: `edgecensus-<device id>`.
    public var clientID = ""
    public var protocolVersion = MQTTSettings.ProtocolVersion.v5
    public var keepalive = 30
    public var username: String?
    public var passwordFile: String?
    public var tls: MQTTSettings.TLS?
    public var topicPrefix = "edgecensus"
    public var discovery = true
    public var discoveryPrefix = "homeassistant"
    /// Seconds between health reports.
    public var healthInterval = 60.0

    public init() {}

    public var isEnabled: Bool { !host.isEmpty }

    public func settings(device: String) -> MQTTSettings {
        var settings = MQTTSettings()
        settings.host = host
        settings.port = port
        settings.clientID = clientID.isEmpty ? "edgecensus-\(device)" : clientID
        settings.protocolVersion = protocolVersion
        settings.keepalive = keepalive
        settings.username = username
        settings.passwordFile = passwordFile
        settings.tls = tls
        return settings
    }
}

extension MQTTConfiguration: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case host, port, clientID = "client_id", protocolVersion = "protocol", keepalive, username
        case passwordFile = "password_file", tls, topicPrefix = "topic_prefix", discovery
        case discoveryPrefix = "discovery_prefix", healthInterval = "health_interval"
    }
    enum TLSKey: String, CodingKey, CaseIterable {
        case caFile = "ca_file", certFile = "cert_file", keyFile = "key_file"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Key.self)
        let c = try decoder.container(keyedBy: Key.self)
        self.init()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        if let problem = TextRules.hostProblem(host) { throw ConfigurationError(key: c.path(.host), problem: problem) }
        port = try c.decode(.port, default: port, in: 1...65535)
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID) ?? clientID
        guard clientID.utf8.count <= 128, !clientID.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw ConfigurationError(
                key: c.path(.clientID), problem: "at most 128 bytes, without NUL or control characters")
        }
        if let version = try c.decodeIfPresent(String.self, forKey: .protocolVersion) {
            guard let parsed = MQTTSettings.ProtocolVersion(rawValue: version) else {
                throw ConfigurationError(key: c.path(.protocolVersion), problem: "'\(version)' is not 5 or 3.1.1")
            }
            protocolVersion = parsed
        }
        keepalive = try c.decode(.keepalive, default: keepalive, in: 5...3600)
        username = try c.decodeIfPresent(String.self, forKey: .username).flatMap { $0.isEmpty ? nil : $0 }
        passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile).flatMap { $0.isEmpty ? nil : $0 }
        if c.contains(.tls) {
            try c.superDecoder(forKey: .tls).rejectUnknownKeys(TLSKey.self)
            let t = try c.nestedContainer(keyedBy: TLSKey.self, forKey: .tls)
            if let ca = try t.decodeIfPresent(String.self, forKey: .caFile), !ca.isEmpty {
                tls = MQTTSettings.TLS(
                    caFile: ca,
                    certificateFile: try t.decodeIfPresent(String.self, forKey: .certFile).flatMap {
                        $0.isEmpty ? nil : $0
                    },
                    keyFile: try t.decodeIfPresent(String.self, forKey: .keyFile).flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        topicPrefix = try c.decodeIfPresent(String.self, forKey: .topicPrefix) ?? topicPrefix
        if let problem = TextRules.topicPrefixProblem(topicPrefix) {
            throw ConfigurationError(
                key: c.path(.topicPrefix),
                problem: "'\(topicPrefix.debugDescription.dropFirst().dropLast())' \(problem)")
        }
        discovery = try c.decodeIfPresent(Bool.self, forKey: .discovery) ?? discovery
        discoveryPrefix = try c.decodeIfPresent(String.self, forKey: .discoveryPrefix) ?? discoveryPrefix
        if let problem = TextRules.topicPrefixProblem(discoveryPrefix) {
            throw ConfigurationError(
                key: c.path(.discoveryPrefix),
                problem: "'\(discoveryPrefix.debugDescription.dropFirst().dropLast())' \(problem)")
        }
        healthInterval = try c.decode(.healthInterval, default: healthInterval, in: 1...86400)
    }
}
