public import EdgeCensusCounting
import EdgeCensusVision
import Foundation

/// The documents EdgeCensus publishes besides the counts themselves.
public enum TelemetryDocuments {
    public static let status = (online: "online", offline: "offline", stopped: "stopped")

    /// Health: what an operator needs to see that a device is well.
    public struct Health: Sendable {
        public var uptime: Double
        public var version: String
        public var cameraState: String
        public var configuredRate: Double
        public var effectiveRate: Double
        public var inferenceMilliseconds: Double?
        public var cpuPercent: Double
        /// Resident memory, in bytes (nil where /proc is not available).
        public var residentMemory: Int?
        public var temperature: Double?
        public var bufferedWindows: Int
        public var oldestUnsentSeconds: Double?
        public var droppedWindows: Int

        public init(uptime: Double, version: String, cameraState: String, configuredRate: Double, effectiveRate: Double,
                    inferenceMilliseconds: Double?, cpuPercent: Double, residentMemory: Int?, temperature: Double?, bufferedWindows: Int,
                    oldestUnsentSeconds: Double?, droppedWindows: Int) {
            self.uptime = uptime
            self.version = version
            self.cameraState = cameraState
            self.configuredRate = configuredRate
            self.effectiveRate = effectiveRate
            self.inferenceMilliseconds = inferenceMilliseconds
            self.cpuPercent = cpuPercent
            self.residentMemory = residentMemory
            self.temperature = temperature
            self.bufferedWindows = bufferedWindows
            self.oldestUnsentSeconds = oldestUnsentSeconds
            self.droppedWindows = droppedWindows
        }
    }

    public static let healthSchema = "edgecensus.health/1"

    public static func health(_ health: Health, device: String, at time: Double) -> String {
        let round = { (value: Double, places: Double) in (value * places).rounded() / places }
        let object: [String: Any] = [
            "schema": healthSchema, "device": device, "time": CountReport.timestamp(time),
            "uptime_seconds": round(health.uptime, 1), "version": health.version, "camera": health.cameraState,
            "analysis_rate": ["configured": health.configuredRate, "effective": round(health.effectiveRate, 100)],
            "inference_ms": health.inferenceMilliseconds.map { round($0, 10) as Any } ?? NSNull(),
            "cpu_percent": round(health.cpuPercent, 10),
            "memory_mib": health.residentMemory.map { round(Double($0) / 1_048_576, 10) as Any } ?? NSNull(),
            "temperature_c": health.temperature.map { round($0, 10) as Any } ?? NSNull(),
            "buffer": ["windows": health.bufferedWindows,
                       "oldest_unsent_seconds": health.oldestUnsentSeconds.map { round($0, 1) as Any } ?? NSNull(),
                       "dropped_windows": health.droppedWindows] as [String: Any],
        ]
        return json(object)
    }

    /// A counts document with the `replayed` flag (false for a live window).
    public static func counts(_ window: CountWindow, device: String, kAnonymity: Int, replayed: Bool) -> String {
        CountReport.jsonLine(window, device: device, kAnonymity: kAnonymity, replayed: replayed)
    }

    /// Home Assistant discovery: one sensor per figure, reading the retained `state`
    /// topic, with availability from `status`. Returns (sensor id, config JSON) pairs.
    public static func discovery(layout: TopicLayout, version: String) -> [(sensor: String, config: String)] {
        var sensors: [(id: String, name: String, template: String, unit: String?)] = [
            ("people", "People", "{{ value_json.people }}", "people"),
            ("in_view", "People in view", "{{ value_json.in_view }}", "people"),
            ("dwell_median", "Median dwell time", "{{ value_json.dwell_seconds.median }}", "s"),
        ]
        for gender in Gender.allCases {
            sensors.append(("gender_\(gender.rawValue)", gender == .male ? "Men" : "Women",
                            "{{ value_json.gender.\(gender.rawValue) }}", "people"))
        }
        for group in AgeGroup.allCases {
            let range = group.label.dropFirst().dropLast()
            sensors.append(("age_\(range.replacingOccurrences(of: "-", with: "_"))", "Age \(range)",
                            "{{ value_json.age_groups['\(group.label)'] }}", "people"))
        }
        // People counted whose gender, or age group, the agent was not sure enough of (counts/2).
        sensors.append(("gender_unknown", "Gender unknown", "{{ value_json.gender.unknown }}", "people"))
        sensors.append(("age_unknown", "Age unknown", "{{ value_json.age_groups.unknown }}", "people"))
        return sensors.map { sensor in
            var config: [String: Any] = [
                "name": sensor.name,
                "unique_id": "edgecensus_\(layout.device)_\(sensor.id)",
                "object_id": "edgecensus_\(layout.device)_\(sensor.id)",
                "state_topic": layout.state,
                "value_template": sensor.template,
                "availability_topic": layout.status,
                "payload_available": status.online,
                "payload_not_available": status.offline,
                "state_class": "measurement",
                "device": ["identifiers": ["edgecensus_\(layout.device)"], "name": "EdgeCensus \(layout.device)",
                           "manufacturer": "EdgeCensus", "model": "edgecensus", "sw_version": version],
            ]
            if let unit = sensor.unit { config["unit_of_measurement"] = unit }
            return (sensor.id, json(config))
        }
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
