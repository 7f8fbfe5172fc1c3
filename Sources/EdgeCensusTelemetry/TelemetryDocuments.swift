public import EdgeCensusCounting
public import EdgeCensusStorage
import EdgeCensusSupport
import EdgeCensusVisionTypes
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
        /// The windows that ended in the hour before the report, as published.
        public var lastHour: RecentPeople.Total
        /// The state directory's files that cannot be written now, and what the agent does meanwhile.
        public var storageFaults: [StorageHealth.Condition]
        /// What the motion gate did since the previous report.
        public var motion: MotionGate

        public init(
            uptime: Double, version: String, cameraState: String, configuredRate: Double, effectiveRate: Double,
            inferenceMilliseconds: Double?, cpuPercent: Double, residentMemory: Int?, temperature: Double?,
            bufferedWindows: Int,
            oldestUnsentSeconds: Double?, droppedWindows: Int,
            lastHour: RecentPeople.Total = .init(people: 0, windows: 0, suppressedWindows: 0),
            storageFaults: [StorageHealth.Condition] = [], motion: MotionGate = MotionGate()
        ) {
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
            self.lastHour = lastHour
            self.storageFaults = storageFaults
            self.motion = motion
        }
    }

    /// The motion gate in a health report: whether it is on, idle now, and, since the
    /// previous report, the share of the time it was gated and the detector passes
    /// run and saved.
    public struct MotionGate: Sendable, Equatable {
        public var enabled: Bool
        /// Only the motion check runs now (nothing moves and nobody is tracked).
        public var idle: Bool
        public var gatedShare: Double
        public var detectorPasses: Int
        public var passesSaved: Int

        public init(
            enabled: Bool = false, idle: Bool = false, gatedShare: Double = 0, detectorPasses: Int = 0,
            passesSaved: Int = 0
        ) {
            self.enabled = enabled
            self.idle = idle
            self.gatedShare = gatedShare
            self.detectorPasses = detectorPasses
            self.passesSaved = passesSaved
        }
    }

    public static let healthSchema = "edgecensus.health/4"

    public static func health(_ health: Health, device: String, at time: Double) -> String {
        let round = { (value: Double, places: Double) -> JSONValue in .double((value * places).rounded() / places) }
        let object: JSONValue = [
            "schema": .string(healthSchema), "device": .string(device), "time": .string(CountReport.timestamp(time)),
            "uptime_seconds": round(health.uptime, 1), "version": .string(health.version),
            "camera": .string(health.cameraState),
            "analysis_rate": [
                "configured": .double(health.configuredRate), "effective": round(health.effectiveRate, 100),
            ],
            "inference_ms": health.inferenceMilliseconds.map { round($0, 10) } ?? nil,
            "cpu_percent": round(health.cpuPercent, 10),
            "memory_mib": health.residentMemory.map { round(Double($0) / 1_048_576, 10) } ?? nil,
            "temperature_c": health.temperature.map { round($0, 10) } ?? nil,
            "buffer": [
                "windows": .int(health.bufferedWindows),
                "oldest_unsent_seconds": health.oldestUnsentSeconds.map { round($0, 1) } ?? nil,
                "dropped_windows": .int(health.droppedWindows),
            ],
            "last_hour": [
                "people": .int(health.lastHour.people), "windows": .int(health.lastHour.windows),
                "suppressed_windows": .int(health.lastHour.suppressedWindows),
            ],
            "storage_faults": .array(
                health.storageFaults.map { condition in
                    [
                        "role": .string(condition.role), "file": .string(condition.fault.path),
                        "cause": .string(condition.fault.cause), "reason": .string(condition.fault.reason),
                        "since": .string(CountReport.timestamp(condition.since)),
                        "consequence": .string(condition.consequence),
                    ]
                }),
            "motion": [
                "enabled": .bool(health.motion.enabled), "state": health.motion.idle ? "idle" : "active",
                "gated_share": round(health.motion.gatedShare, 1000),
                "detector_passes": .int(health.motion.detectorPasses), "passes_saved": .int(health.motion.passesSaved),
            ],
        ]
        return JSONText.line(object)
    }

    /// A counts document with the `replayed` flag (false for a live window).
    public static func counts(_ window: CountWindow, device: String, kAnonymity: Int, replayed: Bool) -> String {
        CountReport.jsonLine(window, device: device, kAnonymity: kAnonymity, replayed: replayed)
    }

    /// One Home Assistant entity EdgeCensus announces by MQTT discovery.
    public struct DiscoveryEntity: Sendable {
        /// `sensor` or `binary_sensor`.
        public var component: String
        /// The entity's id within the device, e.g. `people`, `gender_female`.
        public var id: String
        /// The discovery config, as JSON.
        public var config: String
        /// The entity id Home Assistant gives it (from `default_entity_id`), such as
        /// `sensor.edgecensus_hall_people`: what a dashboard names.
        public var entityID: String
    }

    /// Home Assistant's `slugify` (python-slugify with `_` as separator) for the ASCII
    /// a device id may hold: lower case, every run of other characters (`-` and `_`
    /// included) one `_`, none at either end. `Hall--1` gives `hall_1`.
    public static func homeAssistantSlug(_ text: String) -> String {
        var slug = "", pendingSeparator = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.isASCII, ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingSeparator, !slug.isEmpty { slug += "_" }
                pendingSeparator = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
            }
        }
        return slug.isEmpty ? "unknown" : slug
    }

    /// Home Assistant discovery: the entities of one device.
    /// - Counts (from the retained `state` topic): people, each gender and age group
    ///   with their `unknown` cells, and (disabled until a user turns them on) each
    ///   gender × age group cell, as `state_class: total` with `last_reset` the
    ///   window's start, so that Home Assistant's statistics can add them up per hour
    ///   or day; people in view; dwell median, mean and max as durations. Each carries
    ///   the window's `seq`, start, end, `partial`, `replayed` and `suppressed` as attributes.
    /// - A connectivity binary sensor on `status`: on only while `online`.
    /// - Health (from `health`), as diagnostics that expire when reports stop.
    /// Every entity but the connectivity one is available only while `status` is
    /// `online`: `offline` (the will) and `stopped` (a clean stop) both make it unavailable.
    public static func discovery(layout: TopicLayout, version: String, healthInterval: Double = 60) -> [DiscoveryEntity]
    {
        let onlineOnly = "{{ 'online' if value == '\(status.online)' else '\(status.offline)' }}"
        let device: [String: JSONValue] = [
            "identifiers": ["edgecensus_\(layout.device)"], "name": "EdgeCensus \(layout.device)",
            "manufacturer": "EdgeCensus", "model": "edgecensus", "sw_version": .string(version),
        ]
        let origin: [String: JSONValue] = ["name": "EdgeCensus", "sw_version": .string(version)]
        let windowAttributes =
            "{{ {'seq': value_json.seq, 'window_start': value_json.window_start, "
            + "'window_end': value_json.window_end, 'partial': value_json.partial, 'replayed': value_json.replayed, "
            + "'suppressed': value_json.suppressed | default([])} | tojson }}"
        func entity(_ component: String, _ id: String, _ name: String, _ fields: [String: JSONValue]) -> DiscoveryEntity
        {
            let uniqueID = "edgecensus_\(layout.device)_\(id)"
            // Home Assistant entity ids are slugs: a device id such as `Hall-1` gives `edgecensus_hall_1_people`.
            // `object_id` is what Home Assistant before 2025.10 reads; later releases read `default_entity_id`.
            let objectID = homeAssistantSlug(uniqueID)
            var config: [String: JSONValue] = [
                "name": .string(name), "unique_id": .string(uniqueID), "object_id": .string(objectID),
                "default_entity_id": "\(component).\(objectID)",
                "device": .object(device), "origin": .object(origin),
            ]
            config.merge(fields) { _, new in new }
            return DiscoveryEntity(
                component: component, id: id, config: JSONText.line(.object(config)),
                entityID: "\(component).\(objectID)")
        }
        let available: [String: JSONValue] = [
            "availability_topic": .string(layout.status), "availability_template": .string(onlineOnly),
            "payload_available": .string(status.online), "payload_not_available": .string(status.offline),
        ]
        func count(_ id: String, _ name: String, _ template: String, icon: String, enabled: Bool = true)
            -> DiscoveryEntity
        {
            var fields = available
            fields.merge([
                "state_topic": .string(layout.state), "value_template": .string(template),
                "unit_of_measurement": "people",
                "icon": .string(icon),
                "state_class": "total", "last_reset_value_template": "{{ value_json.window_start }}",
                "json_attributes_topic": .string(layout.state), "json_attributes_template": .string(windowAttributes),
            ]) { _, new in new }
            if !enabled { fields["enabled_by_default"] = false }
            return entity("sensor", id, name, fields)
        }
        var entities: [DiscoveryEntity] = [
            count("people", "People", "{{ value_json.people }}", icon: "mdi:account-group")
        ]
        let genders: [(key: String, name: String, icon: String)] = [
            ("male", "Men", "mdi:human-male"), ("female", "Women", "mdi:human-female"),
            ("unknown", "Gender unknown", "mdi:account-question"),
        ]
        for gender in genders {
            entities.append(
                count("gender_\(gender.key)", gender.name, "{{ value_json.gender.\(gender.key) }}", icon: gender.icon))
        }
        let groups: [(key: String, id: String, name: String)] =
            AgeGroup.allCases.map { group in
                let range = group.label.dropFirst().dropLast()
                return ("['\(group.label)']", range.replacingOccurrences(of: "-", with: "_"), "Age \(range)")
            } + [(".unknown", "unknown", "Age unknown")]
        for group in groups {
            entities.append(
                count(
                    "age_\(group.id)", group.name, "{{ value_json.age_groups\(group.key) }}",
                    icon: group.id == "unknown" ? "mdi:help-circle-outline" : "mdi:cake-variant"))
        }
        for gender in genders {
            for group in groups {
                let name =
                    gender.key == "unknown"
                    ? "Gender unknown, \(group.name.lowercased())" : "\(gender.name), \(group.name.lowercased())"
                entities.append(
                    count(
                        "gender_\(gender.key)_age_\(group.id)", name,
                        "{{ value_json.gender_age.\(gender.key)\(group.key) }}", icon: gender.icon, enabled: false))
            }
        }
        var inView = available
        inView.merge([
            "state_topic": .string(layout.state), "value_template": "{{ value_json.in_view }}",
            "unit_of_measurement": "people",
            "icon": "mdi:account-eye",
            "state_class": "measurement", "json_attributes_topic": .string(layout.state),
            "json_attributes_template": .string(windowAttributes),
        ]) { _, new in new }
        entities.append(entity("sensor", "in_view", "People in view", inView))
        for (key, name) in [
            ("median", "Median dwell time"), ("mean", "Mean dwell time"), ("max", "Longest dwell time"),
        ] {
            var fields = available
            fields.merge([
                "state_topic": .string(layout.state), "value_template": "{{ value_json.dwell_seconds.\(key) }}",
                "unit_of_measurement": "s", "device_class": "duration", "state_class": "measurement",
                "icon": "mdi:timer-outline",
                "json_attributes_topic": .string(layout.state), "json_attributes_template": .string(windowAttributes),
            ]) { _, new in new }
            entities.append(entity("sensor", "dwell_\(key)", name, fields))
        }
        entities.append(
            entity(
                "binary_sensor", "connected", "Connected",
                [
                    "state_topic": .string(layout.status),
                    "value_template": "{{ 'ON' if value == '\(status.online)' else 'OFF' }}",
                    "payload_on": "ON", "payload_off": "OFF", "device_class": "connectivity", "icon": "mdi:lan-connect",
                ]))
        // Health reports come every mqtt.health_interval seconds (retained, for fleet views): three missed ones expire the value.
        let expiry = Int(max(60, (3 * healthInterval).rounded(.up)))
        // People in the last hour: for the device's main card. The rest: diagnostics.
        // Dropped windows only grows (it counts since the offline buffer was made).
        let health:
            [(
                id: String, name: String, template: String, unit: String, deviceClass: String?, icon: String,
                stateClass: String, diagnostic: Bool
            )] = [
                (
                    "people_last_hour", "People in the last hour", "{{ value_json.last_hour.people }}", "people", nil,
                    "mdi:account-clock",
                    "measurement", false
                ),
                ("cpu", "CPU", "{{ value_json.cpu_percent }}", "%", nil, "mdi:cpu-64-bit", "measurement", true),
                (
                    "temperature", "Temperature", "{{ value_json.temperature_c }}", "°C", "temperature",
                    "mdi:thermometer", "measurement", true
                ),
                (
                    "inference_time", "Inference time", "{{ value_json.inference_ms }}", "ms", "duration",
                    "mdi:timer-sand", "measurement", true
                ),
                (
                    "memory", "Memory", "{{ value_json.memory_mib }}", "MiB", "data_size", "mdi:memory", "measurement",
                    true
                ),
                (
                    "analysis_rate", "Analysis rate", "{{ value_json.analysis_rate.effective }}", "analyses/s", nil,
                    "mdi:speedometer",
                    "measurement", true
                ),
                (
                    "buffered_windows", "Buffered windows", "{{ value_json.buffer.windows }}", "windows", nil,
                    "mdi:tray-full", "measurement", true
                ),
                (
                    "dropped_windows", "Dropped windows", "{{ value_json.buffer.dropped_windows }}", "windows", nil,
                    "mdi:tray-remove",
                    "total_increasing", true
                ),
            ]
        for item in health {
            var fields = available
            fields.merge([
                "state_topic": .string(layout.health), "value_template": .string(item.template),
                "unit_of_measurement": .string(item.unit), "state_class": .string(item.stateClass),
                "icon": .string(item.icon), "expire_after": .int(expiry),
            ]) { _, new in new }
            if item.diagnostic { fields["entity_category"] = "diagnostic" }
            if let deviceClass = item.deviceClass { fields["device_class"] = .string(deviceClass) }
            entities.append(entity("sensor", item.id, item.name, fields))
        }
        return entities
    }
}
