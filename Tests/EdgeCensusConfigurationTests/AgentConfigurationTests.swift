import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("Configuration file")
struct AgentConfigurationTests {
    @Test("the shipped etc/edgecensus.yaml parses and equals the built-in defaults")
    func shippedFileIsTheDefault() throws {
        let shipped = try AgentConfiguration.load(file: TestPaths.repository + "/etc/edgecensus.yaml")
        #expect(shipped == AgentConfiguration())
    }

    @Test("motion.* is read with its ranges; the gate is on by default")
    func motionSection() throws {
        #expect(AgentConfiguration().motion.enabled)
        let configuration = try AgentConfiguration.parse(
            yaml: "motion: {enabled: false, threshold: 35, min_area_percent: 1.5}\n")
        #expect(
            !configuration.motion.enabled && configuration.motion.threshold == 35
                && configuration.motion.minAreaPercent == 1.5)
        #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "motion: {min_area_percent: 200}\n")
        }
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(yaml: "motion: {sensitivity: 3}\n") }
    }

    @Test("an empty file is the default configuration")
    func emptyFile() throws {
        #expect(try AgentConfiguration.parse(yaml: "") == AgentConfiguration())
        #expect(try AgentConfiguration.parse(yaml: "# only a comment\n") == AgentConfiguration())
    }

    @Test("keys given override the defaults, keys not given keep them")
    func overrides() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                detection:
                  confidence_threshold: 0.7
                  border: 0
                classification:
                  flip_average: false
                  threads: 2
                """)
        #expect(configuration.detection.confidenceThreshold == 0.7)
        #expect(configuration.detection.border == 0)
        #expect(configuration.detection.minFaceSize == DetectionSettings().minFaceSize)
        #expect(configuration.flipAverage == false)
        #expect(configuration.inferenceThreads == 2)
    }

    @Test(
        "the thresholds for unknown reach the pipeline (per face) and the tracker (per person); a custom net's temperature its spec"
    )
    func thresholdsAndTemperature() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                classification:
                  gender_min_confidence: 0.8
                  age_min_confidence: 0.4
                  gender:
                    temperature: 1.5
                tracking:
                  settle_after: 0
                """)
        #expect(configuration.pipelineSettings.decision == DecisionThresholds(gender: 0.8, age: 0.4))
        #expect(configuration.trackingSettings.decision == DecisionThresholds(gender: 0.8, age: 0.4))
        #expect(configuration.trackingSettings.settleAfter == 0)
        #expect(try configuration.gender.spec(isAge: false).temperature == 1.5)
        #expect(try configuration.age.spec(isAge: true).temperature == ClassifierSpec.dlibAgeTemperature)
        for (yaml, key) in [
            ("classification:\n  gender_min_confidence: 0.4\n", "classification.gender_min_confidence"),
            ("classification:\n  age_min_confidence: 1.5\n", "classification.age_min_confidence"),
            ("classification:\n  age:\n    temperature: 0\n", "classification.age.temperature"),
        ] {
            #expect {
                _ = try AgentConfiguration.parse(yaml: yaml)
            } throws: { error in
                (error as? ConfigurationError)?.key == key
            }
        }
    }

    /// Mappings 70 deep under `windows` (a closure inside `@Test`'s arguments crashes Swift 6.0.3).
    static let nestedSeventyDeep = "windows:\n" + (1...70).map { String(repeating: "  ", count: $0) + "a:\n" }.joined()

    @Test(
        "every refusal carries its kind, for callers that act on it without reading the text",
        arguments: [
            ("detection:\n  min_face_sise: 30\n", ConfigurationError.Kind.unknownKey),
            ("detection:\n  confidence_threshold: high\n", .wrongType),
            ("detection: [1, 2\n", .syntax),
            ("detection: *nowhere\n", .syntax),
            ("throttle: {max_rate_hz: 0}\n", .outOfRange),
            ("windows:\n  k_anonymity: 1:1:1:1:1:1:1:1:1:1:1:1\n", .outOfRange),
            ("source: {kind: webcam}\n", .invalidValue),
            ("classification:\n  gender:\n    preset: custom\n    outputs: [{name: g}]\n", .missingKey),
            (Self.nestedSeventyDeep, .tooLarge),
        ])
    func kinds(yaml: String, kind: ConfigurationError.Kind) {
        #expect {
            _ = try AgentConfiguration.parse(yaml: yaml)
        } throws: { error in
            (error as? ConfigurationError)?.kind == kind
        }
    }

    @Test("a file that is not there is a refusal of kind file")
    func missingFile() {
        #expect {
            _ = try AgentConfiguration.load(file: "/nonexistent/edgecensus.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.kind == .file
        }
    }

    @Test(
        "errors name the key, the value and what was expected",
        arguments: [
            ("detection:\n  confidence_threshold: 1.5\n", "detection.confidence_threshold", "out of range"),
            ("detection:\n  confidence_threshold: high\n", "detection.confidence_threshold", "expected a number"),
            ("detection:\n  min_face_sise: 30\n", "detection.min_face_sise", "unknown key"),
            ("cameras: {}\n", "cameras", "unknown key"),
            ("detection:\n  mean: [1, 2]\n", "detection.mean", "expected 3 numbers"),
            ("classification:\n  age:\n    preset: hal9000\n", "classification.age.preset", "not a preset"),
            (
                "classification:\n  gender:\n    color_order: yuv\n", "classification.gender.color_order",
                "not rgb or bgr"
            ),
            ("classification:\n  gender:\n    labels: male\n", "classification.gender.labels", "expected"),
            ("source: {kind: webcam}\n", "source.kind", "not a source"),
            ("source: {kind: video}\n", "source.path", "needs a path"),
            ("source: {kind: camera, format: h264}\n", "source.format", "not a pixel format"),
            ("source: {start_time: yesterday}\n", "source.start_time", "ISO 8601"),
            ("throttle: {max_rate_hz: 0}\n", "throttle.max_rate_hz", "out of range"),
            ("windows: {length: 0.5}\n", "windows.length", "out of range"),
            ("device: {id: \"hall/1\"}\n", "device.id", "topic level"),
            ("tracking: {min_frames: 3}\n", "tracking.min_frames", "unknown key"),
            ("mqtt: {protocol: \"4\"}\n", "mqtt.protocol", "not a protocol version; expected 5 or 3.1.1"),
            ("mqtt: {port: 70000}\n", "mqtt.port", "out of range"),
            ("mqtt: {topic_prefix: \"a/#\"}\n", "mqtt.topic_prefix", "wildcards"),
            ("mqtt: {password: secret}\n", "mqtt.password", "unknown key"),
        ])
    func invalid(yaml: String, key: String, problem: String) {
        expectRefusal(of: yaml, key: key, problem: problem)
    }

    @Test("a file's errors carry its path")
    func fileErrors() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.yaml")
        try writeFile(path, Data("detection: [1, 2\n".utf8))
        let error = thrownError(ConfigurationError.self) { try AgentConfiguration.load(file: path) }
        #expect(error?.description.hasPrefix(path) == true)
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(file: directory.file("missing.yaml")) }
    }

    @Test("the levi-hassner preset needs the user's weights")
    func leviHassnerNeedsWeights() throws {
        let configuration = try AgentConfiguration.parse(yaml: "classification:\n  age:\n    preset: levi-hassner\n")
        let error = thrownError(ConfigurationError.self) { try configuration.age.spec(isAge: true) }
        #expect(error?.key == "classification.age.weights")
        let withWeights = try AgentConfiguration.parse(
            yaml: """
                classification:
                  age: {preset: levi-hassner, weights: /opt/age_net.caffemodel}
                """)
        let spec = try withWeights.age.spec(isAge: true)
        #expect(spec == .leviHassnerAge(weights: "/opt/age_net.caffemodel"))
    }

    @Test("a custom classifier is described completely")
    func customClassifier() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                classification:
                  gender:
                    preset: custom
                    model: /opt/my-gender.onnx
                    model_sha256: "0000000000000000000000000000000000000000000000000000000000000000"
                    input_size: 96
                    color_order: bgr
                    mean: [0, 0, 0]
                    scale: 0.0078125
                    labels: [male, female]
                    crop: aligned
                    crop_padding: 0.25
                """)
        let spec = try configuration.gender.spec(isAge: false)
        #expect(spec.model == "/opt/my-gender.onnx")
        #expect(spec.inputWidth == 96 && spec.inputHeight == 96)
        #expect(spec.colorOrder == .bgr)
        #expect(spec.labels == ["male", "female"])
        #expect(spec.crop == .aligned(padding: 0.25))
        let incomplete = try AgentConfiguration.parse(
            yaml: "classification:\n  gender:\n    preset: custom\n    model: x.onnx\n")
        #expect(throws: ConfigurationError.self) { try incomplete.gender.spec(isAge: false) }
    }

    @Test(
        "a custom net with several outputs, an age in years and face-api.js's crop: the same spec in both roles is one net"
    )
    func customMultiOutput() throws {
        let net = """
                preset: custom
                model: /opt/faceapi.onnx
                input_size: 112
                color_order: rgb
                mean: [122.782, 117.001, 104.298]
                scale: 0.00390625
                outputs:
                  - {name: age, kind: age-years}
                  - {name: gender, kind: gender-probabilities, labels: [male, female]}
                age_spread: 0.455
                crop: trimmed-square
                trim_top: 0.15
            """
        let configuration = try AgentConfiguration.parse(yaml: "classification:\n  gender:\n\(net)\n  age:\n\(net)\n")
        let gender = try configuration.gender.spec(isAge: false), age = try configuration.age.spec(isAge: true)
        #expect(gender == age, "the same net: FacePipeline.load runs it once for both")
        #expect(
            gender.outputs == [
                ClassifierOutput(name: "age", kind: .ageYears),
                ClassifierOutput(name: "gender", kind: .genderProbabilities(labels: ["male", "female"])),
            ])
        #expect(gender.ageSpread == 0.455 && gender.crop == .trimmedSquare(trimTop: 0.15) && gender.labels == nil)
        for (yaml, key, says) in [
            (
                "classification:\n  age:\n    outputs: [{name: a, kind: age-groups}]\n", "classification.age.outputs",
                "age-groups"
            ),
            (
                "classification:\n  gender:\n    outputs: [{name: g, kind: gender-probabilities, labels: [male]}]\n",
                "classification.gender.outputs", "male and female"
            ),
            ("classification:\n  age:\n    age_spread: 0\n", "classification.age.age_spread", "out of range"),
            ("classification:\n  gender:\n    trim_top: 0.95\n", "classification.gender.trim_top", "out of range"),
        ] {
            #expect {
                _ = try AgentConfiguration.parse(yaml: yaml)
            } throws: { error in
                (error as? ConfigurationError)?.key == key && "\(error)".contains(says)
            }
        }
        let untrimmable = try AgentConfiguration.parse(yaml: "classification:\n  gender:\n    trim_top: 0.1\n")
        #expect {
            try untrimmable.gender.spec(isAge: false)
        } throws: { error in
            (error as? ConfigurationError)?.key == "classification.gender.trim_top"
                && "\(error)".contains("crop: trimmed-square")
        }
    }

    @Test("the agent's sections: source, throttle, tracking, windows, state, device")
    func agentSections() throws {
        let configuration = try AgentConfiguration.parse(
            yaml: """
                device: {id: hall-1}
                source: {kind: video, path: /data/walk.mp4, realtime: false, start_time: "2026-03-01T09:00:00Z"}
                throttle: {max_rate_hz: 1.5, cpu_budget_percent: 50, temperature_limit: 70}
                tracking: {min_track_frames: 4, track_timeout: 5}
                windows: {length: 300, k_anonymity: 5}
                state: {directory: /tmp/ec}
                """)
        #expect(configuration.effectiveDeviceID == "hall-1")
        #expect(configuration.source.kind == .video && configuration.source.path == "/data/walk.mp4")
        #expect(configuration.source.startTime == 1_772_355_600)
        #expect(configuration.throttle.maxRateHz == 1.5 && configuration.throttle.cpuBudgetPercent == 50)
        #expect(configuration.tracking.minTrackFrames == 4 && configuration.tracking.trackTimeout == 5)
        #expect(configuration.windowLength == 300 && configuration.kAnonymity == 5)
        #expect(configuration.stateDirectory == "/tmp/ec")
    }

    @Test("mqtt: off until a host is given; TLS only with a CA file; the password only from a file")
    func mqttSection() throws {
        #expect(!AgentConfiguration().mqtt.isEnabled)
        let configuration = try AgentConfiguration.parse(
            yaml: """
                device: {id: hall}
                mqtt:
                  host: broker.local
                  port: 8883
                  protocol: "3.1.1"
                  username: counter
                  password_file: /etc/edgecensus/mqtt-password
                  tls: {ca_file: /etc/ssl/ca.pem}
                """)
        let settings = configuration.mqtt.settings(device: configuration.effectiveDeviceID)
        #expect(configuration.mqtt.isEnabled)
        #expect(settings.clientID == "edgecensus-hall")
        #expect(settings.protocolVersion == .v311)
        #expect(settings.passwordFile == "/etc/edgecensus/mqtt-password")
        #expect(settings.tls?.caFile == "/etc/ssl/ca.pem" && settings.tls?.certificateFile == nil)
    }
}
