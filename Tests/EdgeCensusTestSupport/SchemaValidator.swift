public import EdgeCensusTelemetry
import Foundation

/// Checks payloads against the JSON Schema files the project publishes
/// (`Sources/EdgeCensusTelemetry/Schemas/`), with an independent validator:
/// Debian's `python3-jsonschema` (Draft 2020-12), not code of our own.
public enum SchemaValidator {
    public static let directory = TestPaths.repository + "/Sources/EdgeCensusTelemetry/Schemas"
    public static let python = "/usr/bin/python3"

    /// The schema (file name without `.schema.json`) a topic's payloads follow, or
    /// nil for a topic EdgeCensus does not document.
    public static func schema(forTopic topic: String, layout: TopicLayout) -> String? {
        switch topic {
        case layout.counts, layout.state: "counts"
        case layout.health: "health"
        case layout.status: "status"
        case layout.configState: "config-state"
        case layout.configResult: "config-result"
        case _
        where ["sensor", "binary_sensor"].contains(where: {
            topic.hasPrefix("\(layout.discoveryPrefix)/\($0)/edgecensus_\(layout.device)/")
        })
            && topic.hasSuffix("/config"):
            "discovery"
        default: nil
        }
    }

    /// One line per payload that does not validate ("label: path: message"); empty
    /// when all do. A payload that is not JSON is checked as a string (the status words).
    public static func problems(_ payloads: [(label: String, schema: String, payload: [UInt8])]) throws -> [String] {
        let directory = try TemporaryDirectory()
        var lines: [String] = []
        for item in payloads {
            let value: Any =
                (try? JSONSerialization.jsonObject(with: Data(item.payload), options: [.fragmentsAllowed]))
                ?? String(decoding: item.payload, as: UTF8.self)
            let record: [String: Any] = ["label": item.label, "schema": item.schema, "payload": value]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.fragmentsAllowed])
            lines.append(String(decoding: data, as: UTF8.self))
        }
        try writeFile(directory.file("payloads.jsonl"), Data(lines.joined(separator: "\n").utf8))
        try writeFile(directory.file("validate.py"), Data(script.utf8))
        let result = try ProcessRunner.run(
            python, [directory.file("validate.py"), Self.directory, directory.file("payloads.jsonl")])
        guard result.status == 0 else {
            throw ValidatorFailed(
                description:
                    "the schema validator failed (is python3-jsonschema installed? see README.md): \(result.standardError)"
            )
        }
        return result.standardOutput.split(separator: "\n").map(String.init)
    }

    public struct ValidatorFailed: Error, CustomStringConvertible {
        public var description: String
    }

    static let script = """
        import json, pathlib, sys
        from jsonschema import Draft202012Validator
        schemas = {}
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.schema.json")):
            schema = json.loads(path.read_text())
            Draft202012Validator.check_schema(schema)
            schemas[path.name[:-len(".schema.json")]] = Draft202012Validator(schema)
        for line in pathlib.Path(sys.argv[2]).read_text().splitlines():
            record = json.loads(line)
            for error in schemas[record["schema"]].iter_errors(record["payload"]):
                where = "/".join(str(p) for p in error.absolute_path) or "(top)"
                print(f"{record['label']}: {where}: {error.message}")
        """
}
