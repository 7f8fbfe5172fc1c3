import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("YAML as the configuration reads it")
struct YAMLTreeTests {
    @Test("a plain scalar is read as its key's type: text where text is expected, a number where a number is")
    func scalarsByType() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                device: {id: 0123}
                mqtt: {client_id: 007, port: 1_883}
                windows: {length: 0x3c, k_anonymity: 0o12}
                tracking:
                  track_timeout: 1:30
                """)
        #expect(configuration.deviceID == "0123")
        #expect(configuration.mqtt.clientID == "007")
        #expect(configuration.mqtt.port == 1883)
        #expect(configuration.windowLength == 60)
        #expect(configuration.kAnonymity == 10)
        #expect(configuration.tracking.trackTimeout == 90)
    }

    @Test("yes/no/on/off and true/false in any case are booleans unless quoted")
    func booleans() throws {
        for (text, value) in [
            ("yes", true), ("On", true), ("TRUE", true), ("no", false), ("off", false), ("False", false),
        ] {
            let configuration = try AgentConfiguration.parse(yaml: "detection: {keep_aspect: \(text)}\n")
            #expect(configuration.detection.keepAspect == value, "\(text)")
        }
        for quoted in ["'yes'", "\"false\"", "!!str true"] {
            let error = thrownError(ConfigurationError.self) {
                try AgentConfiguration.parse(yaml: "detection: {keep_aspect: \(quoted)}\n")
            }
            #expect(error?.key == "detection.keep_aspect")
            #expect(error?.description.contains("expected true or false") == true, "\(String(describing: error))")
        }
    }

    @Test("a quoted number is text, not a number, and the error says what was found")
    func quotedNumbers() {
        let error = thrownError(ConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "windows: {length: \"60\"}\n")
        }
        #expect(error?.key == "windows.length")
        #expect(error?.description.contains("expected a number; found \"60\"") == true, "\(String(describing: error))")
    }

    @Test("~, null and an empty value leave the default in force")
    func nulls() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: "windows:\n  length:\n  k_anonymity: ~\ndevice: {id: null}\n")
        #expect(configuration.windowLength == AgentConfiguration().windowLength)
        #expect(configuration.kAnonymity == AgentConfiguration().kAnonymity)
        #expect(configuration.deviceID == nil)
    }

    @Test("anchors, aliases and merge keys: the mapping's own keys win, then the earlier merged mapping")
    func mergeKeys() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                classification:
                  gender: &tuned {temperature: 1.5, preset: dlib-cydral}
                  age:
                    <<: *tuned
                    temperature: 2
                """)
        #expect(try configuration.gender.spec(isAge: false).temperature == 1.5)
        #expect(try configuration.age.spec(isAge: true).temperature == 2)

        let value = try JSONValue.parse(
            yaml: """
                a: &a {x: 1, y: 1}
                b: &b {y: 2, z: 2}
                c:
                  <<: [*a, *b]
                  z: 3
                """)
        #expect(value.value(at: "c") == .object(["x": .int(1), "y": .int(1), "z": .int(3)]))
    }

    @Test(
        "what YAML cannot say for a configuration is refused with where it was",
        arguments: [
            ("windows: {length: 60\n", "", "not valid YAML"),
            ("windows: {length: 60, length: 30}\n", "", "not valid YAML"),
            ("classification:\n  age:\n    <<: 5\n", "classification.age.<<", "a merge key takes a mapping"),
            ("windows:\n  ? [length]\n  : 60\n", "windows", "a key must be text"),
            ("- windows\n", "", "expected a mapping (key: value); found a list"),
            ("detection: {mean: 5}\n", "detection.mean", "expected a list; found \"5\""),
            ("windows: {length: [60]}\n", "windows.length", "expected a number; found a list"),
        ])
    func refusals(yaml: String, key: String, problem: String) {
        expectRefusal(of: yaml, key: key, problem: problem)
    }
}
