import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVisionTypes
import Foundation
import Testing

/// The documents EdgeCensus publishes, checked against the JSON Schema files it
/// publishes for them (Sources/EdgeCensusTelemetry/Schemas).
@Suite("Telemetry documents and their JSON Schemas")
struct TelemetryDocumentsTests {
    static func discovered(healthInterval: Double = 60) throws -> [String: [String: Any]] {
        var configs: [String: [String: Any]] = [:]
        for entity in TelemetryDocuments.discovery(
            layout: Self.layout, version: "0.1.0", healthInterval: healthInterval)
        {
            configs["\(entity.component)/\(entity.id)"] = try #require(
                try JSONSerialization.jsonObject(with: Data(entity.config.utf8)) as? [String: Any])
        }
        return configs
    }

    @Test(
        "Home Assistant discovery: unavailable unless online (stopped too), entity ids old and new, origin, window attributes"
    )
    func discoveryAvailabilityAndIds() throws {
        let configs = try Self.discovered()
        let people = try #require(configs["sensor/people"])
        #expect(people["availability_template"] as? String == "{{ 'online' if value == 'online' else 'offline' }}")
        #expect(people["payload_not_available"] as? String == "offline")
        #expect(people["object_id"] as? String == "edgecensus_hall_people")
        #expect(people["default_entity_id"] as? String == "sensor.edgecensus_hall_people")
        #expect((people["origin"] as? [String: Any])?["name"] as? String == "EdgeCensus")
        #expect(people["json_attributes_topic"] as? String == "edgecensus/hall/state")
        #expect((people["json_attributes_template"] as? String)?.contains("value_json.partial") == true)
        // The connectivity sensor is the one entity that stays available, to say "disconnected".
        let connected = try #require(configs["binary_sensor/connected"])
        #expect(connected["device_class"] as? String == "connectivity" && connected["availability_topic"] == nil)
        #expect(connected["state_topic"] as? String == "edgecensus/hall/status")
    }

    @Test(
        "Home Assistant entity ids are its slugs of the unique id: a device id with capitals or '-' gives a valid entity id",
        arguments: [
            ("hall", "edgecensus_hall_people"), ("Hall-1", "edgecensus_hall_1_people"),
            ("shop__2--B", "edgecensus_shop_2_b_people"), ("_x_", "edgecensus_x_people"),
        ])
    func entityIDsAreSlugs(device: String, objectID: String) throws {
        let people = try #require(
            TelemetryDocuments.discovery(layout: TopicLayout(device: device), version: "1").first { $0.id == "people" })
        let config = try #require(try JSONSerialization.jsonObject(with: Data(people.config.utf8)) as? [String: Any])
        #expect(
            config["unique_id"] as? String == "edgecensus_\(device)_people",
            "the unique id is unchanged: entities keep their history")
        #expect(config["object_id"] as? String == objectID)
        #expect(config["default_entity_id"] as? String == "sensor." + objectID)
        #expect(people.entityID == "sensor." + objectID)
    }

    @Test(
        "Home Assistant discovery: counts are totals reset at each window's start, dwell figures are durations, health expires"
    )
    func discoveryStatistics() throws {
        let configs = try Self.discovered(healthInterval: 30)
        for id in ["people", "gender_female", "gender_unknown", "age_25_32", "age_unknown", "gender_male_age_60_100"] {
            let config = try #require(configs["sensor/\(id)"], "\(id)")
            #expect(config["state_class"] as? String == "total", "\(id)")
            #expect(config["last_reset_value_template"] as? String == "{{ value_json.window_start }}", "\(id)")
        }
        // The 27 gender x age cells are there, off until a user turns them on.
        #expect(configs.filter { $0.key.contains("_age_") }.count == 27)
        #expect(configs["sensor/gender_female_age_25_32"]?["enabled_by_default"] as? Bool == false)
        for key in ["median", "mean", "max"] {
            #expect(configs["sensor/dwell_\(key)"]?["device_class"] as? String == "duration")
        }
        let cpu = try #require(configs["sensor/cpu"])
        #expect(cpu["entity_category"] as? String == "diagnostic" && cpu["expire_after"] as? Int == 90)
        #expect(cpu["state_topic"] as? String == "edgecensus/hall/health")
    }

    @Test(
        "Home Assistant discovery: every entity has an icon; Connected and people in the last hour are on the main card; dropped windows only grow"
    )
    func discoveryPresentation() throws {
        let configs = try Self.discovered()
        for (key, config) in configs {
            #expect((config["icon"] as? String)?.hasPrefix("mdi:") == true, "\(key) has no icon")
        }
        #expect(configs["binary_sensor/connected"]?["entity_category"] == nil)
        let lastHour = try #require(configs["sensor/people_last_hour"])
        #expect(
            lastHour["entity_category"] == nil
                && lastHour["value_template"] as? String == "{{ value_json.last_hour.people }}")
        #expect(lastHour["state_topic"] as? String == "edgecensus/hall/health" && lastHour["expire_after"] != nil)
        #expect(configs["sensor/dropped_windows"]?["state_class"] as? String == "total_increasing")
        #expect(configs["sensor/cpu"]?["entity_category"] as? String == "diagnostic")
        #expect(configs.count == 53)
    }

    static let layout = TopicLayout(device: "hall")

    static func window(people: Int, partial: Bool = false) -> CountWindow {
        var window = CountWindow(sequence: 12, start: 1_767_258_000, end: 1_767_258_060)
        window.people = people
        window.gender = [.female: people - people / 3, .male: people / 3]
        window.ageGroups = [.from25to32: people - 1, .from60to100: 1]
        window.genderAge = [
            .female: [.from25to32: people - people / 3 - 1, .from60to100: 1], .male: [.from25to32: people / 3],
        ]
        window.dwells = (0..<people).map { 2.0 + Double($0) }
        window.inView = 1
        window.framesAnalysed = 118
        window.framesDropped = 2
        window.partial = partial
        return window
    }

    static var health: TelemetryDocuments.Health {
        TelemetryDocuments.Health(
            uptime: 3600.25, version: "0.1.0", cameraState: "camera /dev/video0 streaming", configuredRate: 2,
            effectiveRate: 1.987, inferenceMilliseconds: 48.26, cpuPercent: 21.43, residentMemory: 96_468_992,
            temperature: 51.2,
            bufferedWindows: 3, oldestUnsentSeconds: 180.4, droppedWindows: 0)
    }

    @Test(
        "every kind of document validates: counts (live, replayed, partial, empty, with k-anonymity), health (with and without readings), each discovery sensor, each status word"
    )
    func documentsValidate() throws {
        var payloads: [(label: String, schema: String, payload: [UInt8])] = []
        func add(_ label: String, _ schema: String, _ text: String) {
            payloads.append((label, schema, Array(text.utf8)))
        }
        add(
            "live", "counts",
            TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 0, replayed: false))
        add(
            "replayed", "counts",
            TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 0, replayed: true))
        add(
            "partial", "counts",
            TelemetryDocuments.counts(
                Self.window(people: 7, partial: true), device: "hall", kAnonymity: 0, replayed: false))
        add(
            "empty", "counts",
            TelemetryDocuments.counts(
                CountWindow(sequence: 1, start: 0, end: 60), device: "hall", kAnonymity: 0, replayed: false))
        add(
            "k=5", "counts",
            TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 5, replayed: false))
        add(
            "k=10", "counts",
            TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 10, replayed: false))
        var unsure = Self.window(people: 7)
        unsure.gender = [.female: 3, .male: 2, nil: 2]
        unsure.ageGroups = [.from25to32: 5, nil: 2]
        unsure.genderAge = [
            .female: [.from25to32: 3], .male: [.from25to32: 1, nil: 1], nil: [.from25to32: 1, nil: 1],
        ]
        add(
            "unknown cells", "counts", TelemetryDocuments.counts(unsure, device: "hall", kAnonymity: 0, replayed: false)
        )
        add(
            "unknown cells, k=2", "counts",
            TelemetryDocuments.counts(unsure, device: "hall", kAnonymity: 2, replayed: false))
        add("stdout line", "counts", CountReport.jsonLine(Self.window(people: 3), device: "hall", kAnonymity: 0))
        add("health", "health", TelemetryDocuments.health(Self.health, device: "hall", at: 1_767_258_000))
        var bare = Self.health
        bare.inferenceMilliseconds = nil
        bare.temperature = nil
        bare.residentMemory = nil
        bare.oldestUnsentSeconds = nil
        add("health without readings", "health", TelemetryDocuments.health(bare, device: "hall", at: 1_767_258_000))
        let entities = TelemetryDocuments.discovery(layout: Self.layout, version: "0.1.0", healthInterval: 30)
        // people, 3 genders, 9 age groups, 27 gender x age cells, in view, 3 dwell figures, connected, people in the
        // last hour, 7 health figures
        #expect(entities.count == 1 + 3 + 9 + 27 + 1 + 3 + 1 + 1 + 7)
        for entity in entities { add("discovery \(entity.component)/\(entity.id)", "discovery", entity.config) }
        for word in ["online", "offline", "stopped"] { add("status \(word)", "status", word) }
        let problems = try SchemaValidator.problems(payloads)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(
        "the schemas refuse what must never be published: a box, an image, a per-person list, an unknown status, a sensor without availability"
    )
    func schemasRefuse() throws {
        func counts(adding key: String, _ value: JSONValue) throws -> [UInt8] {
            let document = CountReport.document(Self.window(people: 3), device: "hall", kAnonymity: 0)
            return Array(document.merging(patch: [key: value]).json.utf8)
        }
        var discovery =
            try JSONSerialization.jsonObject(
                with: Data(TelemetryDocuments.discovery(layout: Self.layout, version: "1")[0].config.utf8))
            as? [String: Any] ?? [:]
        var withoutReset = discovery
        withoutReset["last_reset_value_template"] = nil
        discovery["availability_topic"] = nil
        let cases: [(label: String, schema: String, payload: [UInt8])] = [
            ("box", "counts", try counts(adding: "boxes", [[10, 20, 30, 40]])),
            ("image", "counts", try counts(adding: "image", "iVBORw0KGgo=")),
            ("people list", "counts", try counts(adding: "people", [["age": 31, "gender": "female"]])),
            (
                "extra health", "health",
                Array(
                    TelemetryDocuments.health(Self.health, device: "hall", at: 0).replacingOccurrences(
                        of: "\"version\"", with: "\"face\":[1],\"version\""
                    ).utf8)
            ),
            ("status", "status", Array("sleeping".utf8)),
            ("discovery", "discovery", Array(try JSONSerialization.data(withJSONObject: discovery))),
            ("total without last_reset", "discovery", Array(try JSONSerialization.data(withJSONObject: withoutReset))),
        ]
        let problems = try SchemaValidator.problems(cases)
        for label in cases.map(\.label) {
            #expect(problems.contains { $0.hasPrefix("\(label): ") }, "\(label) was accepted")
        }
    }
}
