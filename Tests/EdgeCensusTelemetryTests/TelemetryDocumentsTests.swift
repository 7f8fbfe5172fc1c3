import EdgeCensusCounting
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// The documents EdgeCensus publishes, checked against the JSON Schema files it
/// publishes for them (Sources/EdgeCensusTelemetry/Schemas).
@Suite("Telemetry documents and their JSON Schemas")
struct TelemetryDocumentsTests {
    static let layout = TopicLayout(device: "hall")

    static func window(people: Int, partial: Bool = false) -> CountWindow {
        var window = CountWindow(sequence: 12, start: 1_767_258_000, end: 1_767_258_060)
        window.people = people
        window.gender = [.female: people - people / 3, .male: people / 3]
        window.ageGroups = [.from25to32: people - 1, .from60to100: 1]
        window.genderAge = [.female: [.from25to32: people - people / 3 - 1, .from60to100: 1], .male: [.from25to32: people / 3]]
        window.dwells = (0..<people).map { 2.0 + Double($0) }
        window.inView = 1
        window.framesAnalysed = 118
        window.framesDropped = 2
        window.partial = partial
        return window
    }

    static var health: TelemetryDocuments.Health {
        TelemetryDocuments.Health(uptime: 3600.25, version: "0.1.0", cameraState: "camera /dev/video0 streaming", configuredRate: 2,
                                  effectiveRate: 1.987, inferenceMilliseconds: 48.26, cpuPercent: 21.43, residentMemory: 96_468_992, temperature: 51.2,
                                  bufferedWindows: 3, oldestUnsentSeconds: 180.4, droppedWindows: 0)
    }

    @Test("every kind of document validates: counts (live, replayed, partial, empty, with k-anonymity), health (with and without readings), each discovery sensor, each status word")
    func documentsValidate() throws {
        var payloads: [(label: String, schema: String, payload: [UInt8])] = []
        func add(_ label: String, _ schema: String, _ text: String) { payloads.append((label, schema, Array(text.utf8))) }
        add("live", "counts", TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 0, replayed: false))
        add("replayed", "counts", TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 0, replayed: true))
        add("partial", "counts", TelemetryDocuments.counts(Self.window(people: 7, partial: true), device: "hall", kAnonymity: 0, replayed: false))
        add("empty", "counts", TelemetryDocuments.counts(CountWindow(sequence: 1, start: 0, end: 60), device: "hall", kAnonymity: 0, replayed: false))
        add("k=5", "counts", TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 5, replayed: false))
        add("k=10", "counts", TelemetryDocuments.counts(Self.window(people: 7), device: "hall", kAnonymity: 10, replayed: false))
        var unsure = Self.window(people: 7)
        unsure.gender = [.female: 3, .male: 2, nil: 2]
        unsure.ageGroups = [.from25to32: 5, nil: 2]
        unsure.genderAge = [.female: [.from25to32: 3], .male: [.from25to32: 1, nil: 1], nil: [.from25to32: 1, nil: 1]]
        add("unknown cells", "counts", TelemetryDocuments.counts(unsure, device: "hall", kAnonymity: 0, replayed: false))
        add("unknown cells, k=2", "counts", TelemetryDocuments.counts(unsure, device: "hall", kAnonymity: 2, replayed: false))
        add("stdout line", "counts", CountReport.jsonLine(Self.window(people: 3), device: "hall", kAnonymity: 0))
        add("health", "health", TelemetryDocuments.health(Self.health, device: "hall", at: 1_767_258_000))
        var bare = Self.health
        bare.inferenceMilliseconds = nil
        bare.temperature = nil
        bare.residentMemory = nil
        bare.oldestUnsentSeconds = nil
        add("health without readings", "health", TelemetryDocuments.health(bare, device: "hall", at: 1_767_258_000))
        let sensors = TelemetryDocuments.discovery(layout: Self.layout, version: "0.1.0")
        #expect(sensors.count == 3 + Gender.allCases.count + AgeGroup.allCases.count + 2)  // + the two unknown buckets
        for (sensor, config) in sensors { add("discovery \(sensor)", "discovery", config) }
        for word in ["online", "offline", "stopped"] { add("status \(word)", "status", word) }
        let problems = try SchemaValidator.problems(payloads)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the schemas refuse what must never be published: a box, an image, a per-person list, an unknown status, a sensor without availability")
    func schemasRefuse() throws {
        func counts(adding key: String, _ value: Any) throws -> [UInt8] {
            var document = CountReport.document(Self.window(people: 3), device: "hall", kAnonymity: 0)
            document[key] = value
            return Array(try JSONSerialization.data(withJSONObject: document))
        }
        var discovery = try JSONSerialization.jsonObject(with: Data(TelemetryDocuments.discovery(layout: Self.layout, version: "1")[0].config.utf8)) as? [String: Any] ?? [:]
        discovery["availability_topic"] = nil
        let cases: [(label: String, schema: String, payload: [UInt8])] = [
            ("box", "counts", try counts(adding: "boxes", [[10, 20, 30, 40]])),
            ("image", "counts", try counts(adding: "image", "iVBORw0KGgo=")),
            ("people list", "counts", try counts(adding: "people", [["age": 31, "gender": "female"]])),
            ("extra health", "health", Array(TelemetryDocuments.health(Self.health, device: "hall", at: 0).replacingOccurrences(of: "\"version\"", with: "\"face\":[1],\"version\"").utf8)),
            ("status", "status", Array("sleeping".utf8)),
            ("discovery", "discovery", Array(try JSONSerialization.data(withJSONObject: discovery))),
        ]
        let problems = try SchemaValidator.problems(cases)
        for label in cases.map(\.label) {
            #expect(problems.contains { $0.hasPrefix("\(label): ") }, "\(label) was accepted")
        }
    }
}
