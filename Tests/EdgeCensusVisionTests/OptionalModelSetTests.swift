import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// `Models/tools/make-optional-set.sh` on the upstream files in ../shared/models
/// (optional models: never committed; the set is made in a temporary directory).
@Suite("The optional model set, made from the upstream files", .serialized,
       .enabled(if: TestPaths.hasYuNet && TestPaths.hasFaceAPI, "needs ../shared/models/yunet and …/faceapi (optional models are never committed)"))
struct OptionalModelSetTests {
    static let script = TestPaths.models + "/tools/make-optional-set.sh"
    static let upstream = [TestPaths.sharedModels + "/yunet/yunet_n_320_320.onnx",
                           TestPaths.sharedModels + "/faceapi/age_gender_model-weights_manifest.json",
                           TestPaths.sharedModels + "/faceapi/age_gender_model-shard1"]

    static func make(_ destination: String, _ files: [String]) throws -> ProcessResult {
        try ProcessRunner.run("/bin/bash", [script, "--from", TestPaths.models, destination] + files)
    }

    @Test("a complete set: the default files unchanged, YuNet, the rebuilt face-api.js graph, model-set.json and a SHA256SUMS that checks; the agent loads from it")
    func completeSet() throws {
        let directory = try TemporaryDirectory()
        let set = directory.file("optional")
        let made = try Self.make(set, Self.upstream)
        try #require(made.status == 0, "\(made.standardError)")
        let check = try ProcessRunner.run("/bin/sh", ["-c", "cd '\(set)' && sha256sum -c --quiet SHA256SUMS"])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        let sums = try String(contentsOfFile: set + "/SHA256SUMS", encoding: .utf8)
        for line in try String(contentsOfFile: TestPaths.models + "/SHA256SUMS", encoding: .utf8).split(separator: "\n") {
            #expect(sums.contains(line), "the default set's \(line) is in the optional set unchanged")
        }
        let models = try ModelDirectory(path: set)
        let yunet = try YuNetDetector.load("yunet/yunet_n_320_320.onnx", from: models, inputWidth: 640, inputHeight: 640)
        #expect(try yunet.detect(in: try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")).count == 1)
        _ = try NeuralNetwork.onnx(path: try models.verifiedFile("faceapi/age-gender-faceapi.onnx", role: "face-api.js net"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: set + "/model-set.json")))
                                        as? [String: Any])
        #expect(manifest["schema"] as? String == "edgecensus.model-set/1")
        let detect = try ProcessRunner.run(TestPaths.executable, ["detect", "--models", set, TestPaths.samples + "/astronaut.png"])
        #expect(detect.status == 0 && detect.standardOutput.contains("female"), "\(detect.standardError)")
        #expect(FileManager.default.fileExists(atPath: set + "/yunet/NOTICE.md") && FileManager.default.fileExists(atPath: set + "/faceapi/NOTICE.md"))
    }

    @Test("a damaged, an unknown or a missing upstream file, or a used destination, is refused by name and nothing is left half made")
    func refusals() throws {
        let directory = try TemporaryDirectory()
        var damaged = try Data(contentsOf: URL(fileURLWithPath: Self.upstream[0]))
        damaged[damaged.count / 2] ^= 0xFF
        let damagedPath = directory.file("yunet_n_320_320.onnx")
        try damaged.write(to: URL(fileURLWithPath: damagedPath))
        let cases: [(files: [String], destination: String, says: String)] = [
            ([damagedPath] + Self.upstream.dropFirst(), directory.file("a"), "yunet_n_320_320.onnx: sha256"),
            (Self.upstream + [TestPaths.sharedModels + "/yunet/yunet_s_320_320.onnx"], directory.file("b"), "not a file this script knows"),
            (Array(Self.upstream.prefix(2)), directory.file("c"), "missing: age_gender_model-shard1"),
            (Self.upstream, TestPaths.models, "exists and is not empty"),
        ]
        for item in cases {
            let result = try Self.make(item.destination, item.files)
            #expect(result.status != 0 && result.standardError.contains(item.says), "\(result.standardError)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "yunet_n_320_320.onnx" }
        #expect(left.isEmpty, "\(left)")
    }
}
