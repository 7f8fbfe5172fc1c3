import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVisionTypes
import Foundation
import Testing

@Suite("The key table: each setting declared once")
struct ConfigurationKeysTests {
    /// The committed copies of what the table makes, and how to make each again.
    static let documents: [(path: String, format: ConfigurationReference.Format)] = [
        ("etc/edgecensus.yaml", .yaml),
        ("packaging/man/edgecensus.yaml.5", .man),
        ("Sources/EdgeCensusTelemetry/Schemas/config-state.schema.json", .schema),
    ]

    @Test(
        "the sample file, the man page and the config-state schema are the table's own, byte for byte",
        arguments: documents.map(\.path))
    func committedDocumentIsCurrent(path: String) throws {
        let format = try #require(Self.documents.first { $0.path == path }).format
        let committed = try String(contentsOfFile: TestPaths.repository + "/" + path, encoding: .utf8)
        #expect(
            committed == ConfigurationReference.document(format),
            "\(path) is not what the key table makes; run: edgecensus config keys --format \(format.rawValue) > \(path)"
        )
    }

    @Test("the Configuration article holds the table's Markdown reference between its markers")
    func articleIsCurrent() throws {
        let article = try String(
            contentsOfFile: TestPaths.repository + "/Sources/edgecensus/Documentation.docc/Articles/Configuration.md",
            encoding: .utf8)
        let begin = "<!-- generated: edgecensus config keys --format markdown -->\n"
        let end = "<!-- end generated -->"
        let start = try #require(article.range(of: begin)).upperBound
        let stop = try #require(article.range(of: end, range: start..<article.endIndex)).lowerBound
        #expect(
            String(article[start..<stop]) == ConfigurationReference.document(.markdown),
            "regenerate the block with: edgecensus config keys --format markdown")
    }

    @Test("paths are unique, and every key is in a section")
    func pathsAreUnique() {
        let paths = ConfigurationKeys.all.map(\.path)
        #expect(Set(paths).count == paths.count)
        #expect(ConfigurationKeys.all.allSatisfy { !$0.sections.isEmpty && !$0.doc.isEmpty })
    }

    @Test("every key is read from a file at its own path: its default gives the default configuration")
    func defaultIsRead() throws {
        for key in ConfigurationKeys.all {
            let yaml = Self.yaml(setting: key.path, to: key.defaultValue)
            let read = try AgentConfiguration.parse(yaml: yaml)
            #expect(read == AgentConfiguration(), "\(yaml)")
            #expect(key.read(read) == key.read(AgentConfiguration()))
        }
    }

    @Test("every number key refuses a value past either end of its range, naming the key and the range")
    func rangesAreEnforced() throws {
        for key in ConfigurationKeys.all {
            let (low, high): (JSONValue, JSONValue)
            switch key.value {
            case .number(let range): (low, high) = (.double(range.lowerBound - 0.001), .double(range.upperBound + 1))
            case .wholeNumber(let range): (low, high) = (.int(range.lowerBound - 1), .int(range.upperBound + 1))
            default: continue
            }
            for value in [low, high] {
                let refusal = Self.refusal(Self.yaml(setting: key.path, to: value))
                #expect(refusal?.kind == .outOfRange && refusal?.key == key.path, "\(key.path) = \(value)")
                #expect(refusal?.problem.contains("expected") == true)
            }
        }
    }

    @Test("every key refuses a value of the wrong type, and every choice a word not in its list")
    func typesAreEnforced() throws {
        for key in ConfigurationKeys.all {
            let wrong: JSONValue
            switch key.value {
            case .number, .wholeNumber, .flag, .numbers: wrong = "surely not"
            case .text, .time: wrong = ["a", "list"]
            case .choice(let words):
                let refusal = Self.refusal(Self.yaml(setting: key.path, to: "nonsense"))
                #expect(refusal?.key == key.path && refusal?.kind == .invalidValue, "\(key.path)")
                #expect(words.allSatisfy { refusal?.problem.contains($0) == true }, "\(String(describing: refusal))")
                continue
            case .classifier: wrong = 5
            }
            let refusal = Self.refusal(Self.yaml(setting: key.path, to: wrong))
            #expect(
                refusal?.key == key.path && refusal?.kind == .wrongType, "\(key.path): \(String(describing: refusal))")
        }
    }

    @Test("a key the table does not have is refused, listing the section's keys from the table")
    func unknownKeysListTheTable() throws {
        let refusal = try #require(Self.refusal("tracking: {min_frames: 2}\n"))
        #expect(refusal.kind == .unknownKey && refusal.key == "tracking.min_frames")
        let listed = ConfigurationKeys.all.filter { $0.sections == ["tracking"] }.map(\.name).sorted()
        #expect(refusal.problem.hasSuffix(listed.joined(separator: ", ")))
        #expect(Self.refusal("mqtt: {tls: {ca: /x}}\n")?.key == "mqtt.tls.ca")
    }

    @Test("a section written with nothing under it keeps every default")
    func emptySection() throws {
        #expect(try AgentConfiguration.parse(yaml: "motion:\nmqtt:\n  tls:\n") == AgentConfiguration())
    }

    @Test("config keys prints each format, and the text names every key with its range and remote effect")
    func textReference() {
        let text = ConfigurationReference.document(.text)
        for key in ConfigurationKeys.all {
            #expect(text.contains("\(key.path)  (default "))
        }
        #expect(text.contains("throttle.max_rate_hz  (default 2; 0.01 to 30; remote: applied at once)"))
        #expect(text.contains("source.width  (default 640; 16 to 7680; remote: reopens the camera)"))
        #expect(text.contains("mqtt.host  (default MQTT off; remote: local file only)"))
    }

    // MARK: - Helpers

    /// A YAML document that sets one key (nested sections in flow style).
    static func yaml(setting path: String, to value: JSONValue) -> String {
        JSONValue.nested(path, value).json + "\n"
    }

    static func refusal(_ yaml: String) -> ConfigurationError? {
        do {
            _ = try AgentConfiguration.parse(yaml: yaml)
            return nil
        } catch {
            return error
        }
    }
}
