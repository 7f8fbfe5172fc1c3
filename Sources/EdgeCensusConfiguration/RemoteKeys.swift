import EdgeCensusCounting
public import EdgeCensusSupport
import EdgeCensusVisionTypes

/// The keys an operator may change over MQTT (`config/set`), and how a change
/// takes effect. Everything else — file paths, models, broker address and
/// credentials, TLS files, the device id — can be changed only in the local file.
public struct RemoteKey: Sendable {
    public enum Effect: String, Sendable {
        /// Applied at once by the running agent.
        case live
        /// The capture is reopened with the new setting; counting goes on.
        case reopenCapture = "reopen_capture"
        /// Kept, and in force from the next start (`restart_required`).
        case restart
    }

    public var path: String
    public var effect: Effect
    /// The key's effective value in a configuration.
    public var read: @Sendable (AgentConfiguration) -> JSONValue
}

public enum RemoteKeys {
    public static let all: [RemoteKey] = [
        RemoteKey(path: "throttle.max_rate_hz", effect: .live) { .double($0.throttle.maxRateHz) },
        RemoteKey(path: "throttle.cpu_budget_percent", effect: .live) { .double($0.throttle.cpuBudgetPercent) },
        RemoteKey(path: "throttle.temperature_limit", effect: .live) { .double($0.throttle.temperatureLimit) },
        RemoteKey(path: "detection.confidence_threshold", effect: .restart) {
            .double($0.detection.confidenceThreshold)
        },
        RemoteKey(path: "detection.min_face_size", effect: .restart) { .int($0.detection.minFaceSize) },
        RemoteKey(path: "motion.enabled", effect: .live) { .bool($0.motion.enabled) },
        RemoteKey(path: "motion.threshold", effect: .live) { .double($0.motion.threshold) },
        RemoteKey(path: "motion.min_area_percent", effect: .live) { .double($0.motion.minAreaPercent) },
        RemoteKey(path: "tracking.min_track_frames", effect: .live) { .int($0.tracking.minTrackFrames) },
        RemoteKey(path: "tracking.track_timeout", effect: .live) { .double($0.tracking.trackTimeout) },
        RemoteKey(path: "tracking.min_overlap", effect: .live) { .double($0.tracking.minOverlap) },
        RemoteKey(path: "tracking.max_centre_distance", effect: .live) { .double($0.tracking.maxCentreDistance) },
        RemoteKey(path: "tracking.settle_after", effect: .live) { .double($0.tracking.settleAfter) },
        RemoteKey(path: "classification.gender_min_confidence", effect: .live) { .double($0.decision.gender) },
        RemoteKey(path: "classification.age_min_confidence", effect: .live) { .double($0.decision.age) },
        RemoteKey(path: "windows.length", effect: .live) { .double($0.windowLength) },
        RemoteKey(path: "windows.k_anonymity", effect: .live) { .int($0.kAnonymity) },
        RemoteKey(path: "source.device", effect: .reopenCapture) { .string($0.source.device) },
        RemoteKey(path: "source.width", effect: .reopenCapture) { .int($0.source.width) },
        RemoteKey(path: "source.height", effect: .reopenCapture) { .int($0.source.height) },
        RemoteKey(path: "source.fps", effect: .reopenCapture) { .double($0.source.fps) },
        RemoteKey(path: "source.format", effect: .reopenCapture) { .string($0.source.format.rawValue) },
        RemoteKey(path: "mqtt.health_interval", effect: .live) { .double($0.mqtt.healthInterval) },
    ]

    public static func key(_ path: String) -> RemoteKey? { all.first { $0.path == path } }

    /// The remote keys and their effective values, as one nested object.
    public static func values(of configuration: AgentConfiguration) -> JSONValue {
        all.reduce(JSONValue.object([:])) { tree, key in
            tree.merging(patch: .nested(key.path, key.read(configuration)))
        }
    }
}
