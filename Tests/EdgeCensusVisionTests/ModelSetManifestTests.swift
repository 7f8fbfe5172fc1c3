import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("model-set.json: what an optional set adds, and what cannot work refused by name")
struct ModelSetManifestTests {
    static let valid = """
        {"schema": "edgecensus.model-set/1", "name": "test",
         "detector": {"kind": "yunet", "file": "yunet/y.onnx", "sha256": "\(String(repeating: "a", count: 64))",
                      "input": {"width": 640, "height": 640, "color_order": "bgr", "mean": [0, 0, 0], "scale": 1},
                      "score_threshold": 0.9, "nms_threshold": 0.3},
         "nets": [{"id": "faceapi", "file": "faceapi/f.onnx", "sha256": "\(String(repeating: "b", count: 64))",
                   "input": {"width": 112, "height": 112, "color_order": "rgb", "mean": [122.782, 117.001, 104.298], "scale": 0.00390625},
                   "crop": {"kind": "box", "trim_top": 0.15, "square": "pad-black"},
                   "outputs": [{"name": "age", "kind": "age-years"},
                               {"name": "gender", "kind": "gender-probabilities", "labels": ["male", "female"]}]}], \
        "gender": {"nets": [{"net": "dlib-cydral-gender", "weight": 0.26}, {"net": "faceapi", "weight": 0.55}]}, \
        "age": {"net": "faceapi", "spread": 0.45}}
        """

    /// A set directory holding `manifest` as model-set.json, listed in its SHA256SUMS.
    static func set(_ manifest: String, in directory: TemporaryDirectory) throws -> ModelDirectory {
        try writeFile(directory.file("model-set.json"), Data(manifest.utf8))
        let digest = try SHA256.hexDigest(ofFile: directory.file("model-set.json"))
        try writeFile(directory.file("SHA256SUMS"), Data("\(digest)  model-set.json\n".utf8))
        return try ModelDirectory(path: directory.path)
    }

    @Test("a valid manifest is read with its detector, nets, crops and outputs; the default set has none")
    func valid() throws {
        let directory = try TemporaryDirectory()
        let manifest = try #require(try ModelSetManifest.load(from: try Self.set(Self.valid, in: directory)))
        #expect(manifest.detector?.input.width == 640 && manifest.detector?.scoreThreshold == 0.9)
        #expect(manifest.nets.first?.crop.trimTop == 0.15 && manifest.nets.first?.input.colorOrder == .rgb)
        #expect(manifest.nets.first?.outputs.map(\.kind) == ["age-years", "gender-probabilities"])
        #expect(manifest.files.map(\.file) == ["yunet/y.onnx", "faceapi/f.onnx"])
        #expect(try ModelSetManifest.load(from: try ModelDirectory(path: TestPaths.models)) == nil)
    }

    @Test(
        "the roles name each net once, as the pipeline runs it: the preset dlib gender net and face-api.js's net, which gives both the age (with its spread) and a gender, each gender with its weight"
    )
    func roles() throws {
        let directory = try TemporaryDirectory()
        let manifest = try #require(try ModelSetManifest.load(from: try Self.set(Self.valid, in: directory)))
        let plan = try #require(manifest.classifiers())
        #expect(plan.map(\.spec.model) == ["dlib-cydral/gender-v1-opencv.onnx", "faceapi/f.onnx"])
        #expect(plan.map(\.gender) == [true, true] && plan.map(\.age) == [false, true])
        #expect(plan.map(\.spec.genderWeight) == [0.26, 0.55])
        let faceapi = plan[1].spec
        #expect(
            faceapi.ageSpread == 0.45 && faceapi.crop == .trimmedSquare(trimTop: 0.15)
                && faceapi.modelSHA256 == String(repeating: "b", count: 64))
        #expect(
            faceapi.outputs == [
                ClassifierOutput(name: "age", kind: .ageYears),
                ClassifierOutput(name: "gender", kind: .genderProbabilities(labels: ["male", "female"])),
            ])
        #expect(faceapi.gives == (gender: true, age: true))
        let withoutRoles = Self.valid.replacingOccurrences(
            of:
                #", "gender": {"nets": [{"net": "dlib-cydral-gender", "weight": 0.26}, {"net": "faceapi", "weight": 0.55}]}"#,
            with: ""
        )
        .replacingOccurrences(of: #", "age": {"net": "faceapi", "spread": 0.45}"#, with: "")
        let other = try TemporaryDirectory()
        #expect(
            try ModelSetManifest.load(from: try Self.set(withoutRoles, in: other))?.classifiers() == nil,
            "a set without roles only adds files")
    }

    @Test(
        "what cannot work is refused with what was wrong",
        arguments: [
            (
                #""schema": "edgecensus.model-set/1""#, #""schema": "edgecensus.model-set/9""#,
                "made by a newer EdgeCensus"
            ),
            (#""width": 640, "height": 640"#, #""width": 650, "height": 640"#, "multiples of 32"),
            (#""kind": "age-years""#, #""kind": "age-groups""#, "output kind 'age-groups'"),
            (#""labels": ["male", "female"]"#, #""labels": ["male"]"#, "needs labels male and female"),
            (#""trim_top": 0.15"#, #""trim_top": 1.5"#, "trim_top 1.5"),
            (#""score_threshold": 0.9"#, #""score_threshold": 9"#, "score_threshold 9.0, expected 0 to 1"),
            (#""id": "faceapi", "file""#, #""file""#, "missing 'nets[0].id'"),
            (#""scale": 1}"#, #""scale": "one"}"#, "'detector.input.scale'"),
            (
                #""age": {"net": "faceapi", "spread": 0.45}"#, #""age": {"net": "insightface", "spread": 0.45}"#,
                "'insightface' is neither a net of the set nor one of dlib-cydral-age, dlib-cydral-gender"
            ),
            (
                #""age": {"net": "faceapi", "spread": 0.45}"#, #""age": {"net": "faceapi"}"#,
                "gives years: give its spread"
            ),
            (#", "age": {"net": "faceapi", "spread": 0.45}"#, "", "give both roles, or neither"),
            (
                #""score_threshold": 0.9"#, #""score_threshold": 0.9, "alignment": {"scale": 3, "shift": 0}"#,
                "alignment scale 3.0"
            ),
            (
                #""score_threshold": 0.9"#, #""score_threshold": 0.9, "landmark_template": [[0, 0]]"#,
                "landmark_template needs five"
            ),
            (
                #""score_threshold": 0.9"#, #""score_threshold": 0.9, "frames": {"width": 300, "height": 320}"#,
                "frames 300x320"
            ),
        ])
    func refused(original: String, replacement: String, says: String) throws {
        let text = Self.valid.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.valid)
        let directory = try TemporaryDirectory()
        do {
            _ = try ModelSetManifest.load(from: try Self.set(text, in: directory))
            Issue.record("accepted: \(replacement)")
        } catch {
            #expect("\(error)".contains(says), "\(error)")
            #expect("\(error)".contains("model-set.json"), "the error names the file: \(error)")
        }
    }

    @Test("a manifest changed after the set was made fails its checksum, like any model file")
    func checksum() throws {
        let directory = try TemporaryDirectory()
        let models = try Self.set(Self.valid, in: directory)
        try writeFile(
            directory.file("model-set.json"), Data(Self.valid.replacingOccurrences(of: "0.9,", with: "0.95,").utf8))
        #expect(throws: VisionError.self) { try ModelSetManifest.load(from: models) }
    }
}
