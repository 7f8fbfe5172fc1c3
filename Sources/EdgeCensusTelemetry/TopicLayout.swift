/// Every topic EdgeCensus publishes or listens to, defined once.
public struct TopicLayout: Sendable, Equatable {
    /// `mqtt.topic_prefix` with the device id: `edgecensus/<device_id>`.
    public let base: String
    /// `mqtt.topic_prefix` (without a trailing slash): every device's topics are under it.
    public let prefix: String
    public let discoveryPrefix: String
    public let device: String

    public init(prefix: String = "edgecensus", device: String, discoveryPrefix: String = "homeassistant") {
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        base = self.prefix + "/" + device
        self.device = device
        self.discoveryPrefix = discoveryPrefix
    }

    /// `online` (retained, on every connect), `offline` (the last will), `stopped` (clean shutdown).
    public var status: String { base + "/status" }
    /// One document per window, QoS 1, never retained.
    public var counts: String { base + "/counts" }
    /// The latest window, retained.
    public var state: String { base + "/state" }
    /// Periodic health report.
    public var health: String { base + "/health" }
    /// Remote configuration: a change (JSON merge patch) to apply.
    public var configSet: String { base + "/config/set" }
    /// Remote configuration: asks for the configuration in force.
    public var configGet: String { base + "/config/get" }
    /// The answer to each `config/set` and `config/get`.
    public var configResult: String { base + "/config/result" }
    /// The remote keys' effective values and the configuration version, retained.
    public var configState: String { base + "/config/state" }
    /// Home Assistant announces itself here (`online` after it restarts).
    public var homeAssistantStatus: String { discoveryPrefix + "/status" }

    /// Home Assistant's discovery topic for one entity (`component`: sensor, binary_sensor).
    public func discovery(component: String = "sensor", entity: String) -> String {
        "\(discoveryPrefix)/\(component)/edgecensus_\(device)/\(entity)/config"
    }
}
