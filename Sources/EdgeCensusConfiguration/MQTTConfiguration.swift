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
    /// `tls.ca_file`: TLS is on when it is given.
    public var tlsCAFile = ""
    public var tlsCertificateFile = ""
    public var tlsKeyFile = ""
    public var topicPrefix = "edgecensus"
    public var discovery = true
    public var discoveryPrefix = "homeassistant"
    /// Seconds between health reports.
    public var healthInterval = 60.0

    public init() {}

    public var isEnabled: Bool { !host.isEmpty }

    /// TLS, when `tls.ca_file` is given.
    public var tls: MQTTSettings.TLS? {
        tlsCAFile.isEmpty
            ? nil
            : MQTTSettings.TLS(
                caFile: tlsCAFile, certificateFile: tlsCertificateFile.isEmpty ? nil : tlsCertificateFile,
                keyFile: tlsKeyFile.isEmpty ? nil : tlsKeyFile)
    }

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
