import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// `Models/tools/make-optional-set.sh` on the upstream files in ../shared/models
/// (optional models: never committed; the set is made in a temporary directory).
@Suite(
    "The optional model set, made from the upstream files", .tags(.slow), .serialized,
    .enabled(
        if: TestPaths.hasYuNet && TestPaths.hasFaceAPI,
        "needs ../shared/models/yunet and …/faceapi (optional models are never committed)"))
struct OptionalModelSetTests {
    static let script = OptionalModelSet.script
    static let upstream = OptionalModelSet.upstream

    static func make(_ destination: String, _ files: [String]) throws -> ProcessResult {
        try OptionalModelSet.make(destination, files: files)
    }

    @Test(
        "a complete set: the default files unchanged, YuNet, the rebuilt face-api.js graph, model-set.json and a SHA256SUMS that checks; the agent loads from it"
    )
    func completeSet() throws {
        let directory = try TemporaryDirectory()
        let set = directory.file("optional")
        let made = try Self.make(set, Self.upstream)
        try #require(made.status == 0, "\(made.standardError)")
        let check = try ProcessRunner.run("/bin/sh", ["-c", "cd '\(set)' && sha256sum -c --quiet SHA256SUMS"])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        let sums = try String(contentsOfFile: set + "/SHA256SUMS", encoding: .utf8)
        for line in try String(contentsOfFile: TestPaths.models + "/SHA256SUMS", encoding: .utf8).split(separator: "\n")
        {
            #expect(sums.contains(line), "the default set's \(line) is in the optional set unchanged")
        }
        let models = try ModelDirectory(path: set)
        let yunet = try YuNetDetector.load(
            "yunet/yunet_n_320_320.onnx", from: models, inputWidth: 640, inputHeight: 640)
        #expect(try yunet.detect(in: try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")).count == 1)
        _ = try NeuralNetwork.onnx(
            path: try models.verifiedFile("faceapi/age-gender-faceapi.onnx", role: "face-api.js net"))
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: set + "/model-set.json")))
                as? [String: Any])
        #expect(manifest["schema"] as? String == "edgecensus.model-set/1")
        let detect = try ProcessRunner.run(
            TestPaths.executable, ["detect", "--models", set, TestPaths.samples + "/astronaut.png"])
        #expect(detect.status == 0 && detect.standardOutput.contains("female"), "\(detect.standardError)")
        #expect(
            FileManager.default.fileExists(atPath: set + "/yunet/NOTICE.md")
                && FileManager.default.fileExists(atPath: set + "/faceapi/NOTICE.md"))
    }

    @Test(
        "a destination given relative to the current directory gets the complete set there, and nothing lands in the default set"
    )
    func relativeDestination() throws {
        let directory = try TemporaryDirectory()
        let quoted = ([Self.script, "--from", TestPaths.models, "made/set"] + Self.upstream).map { "'\($0)'" }.joined(
            separator: " ")
        let made = try ProcessRunner.run("/bin/sh", ["-c", "cd '\(directory.path)' && bash \(quoted)"])
        try #require(made.status == 0, "\(made.standardError)")
        let check = try ProcessRunner.run(
            "/bin/sh", ["-c", "cd '\(directory.file("made/set"))' && sha256sum -c --quiet SHA256SUMS"])
        #expect(check.status == 0, "\(check.standardOutput)")
        #expect(
            try String(contentsOfFile: directory.file("made/set/SHA256SUMS"), encoding: .utf8).contains(
                "shape_predictor_5_face_landmarks.dat"))
        #expect(!FileManager.default.fileExists(atPath: TestPaths.models + "/made"))
    }

    /// The set, made once per test in a temporary directory.
    static func madeSet(in directory: TemporaryDirectory) throws -> ModelDirectory {
        let made = try Self.make(directory.file("optional"), Self.upstream)
        try #require(made.status == 0, "\(made.standardError)")
        return try ModelDirectory(path: directory.file("optional"))
    }

    @Test(
        "the agent's pipeline on the set: YuNet finds the face, the age is face-api.js's years, and the gender is the weighted sum of both nets' log-odds"
    )
    func pipeline() throws {
        let directory = try TemporaryDirectory()
        let models = try Self.madeSet(in: directory)
        let pipeline = try FacePipeline.load(from: models)
        #expect(pipeline.detector is YuNetDetector)
        #expect(
            pipeline.classifiers.map(\.spec.model) == [
                "dlib-cydral/gender-v1-opencv.onnx", "faceapi/age-gender-faceapi.onnx",
            ])
        #expect(pipeline.settings.alignment.scale == 1.0, "the set's alignment box for YuNet")
        let faces = try pipeline.analyse(try Image.load(contentsOf: TestPaths.samples + "/astronaut.png"))
        let face = try #require(faces.first)
        #expect(faces.count == 1 && face.gender == .female && (25...45).contains(face.age), "\(faces)")
        let evidence = try #require(face.evidence)
        let dlib = try #require(evidence.readings[0].gender), faceapi = try #require(evidence.readings[1].gender)
        let fused =
            0.263 * ClassifierReading.maleLogOdds(dlib, labels: [.female, .male])
            + 0.548 * ClassifierReading.maleLogOdds(faceapi, labels: [.male, .female])
        #expect(abs(evidence.genderLogOdds - fused) < 1e-9)
        #expect(abs(face.genderConfidence - 1 / (1 + exp(fused))) < 1e-9)
        #expect(face.age == evidence.readings[1].ageYears)
        #expect(evidence.ageDistribution.isEmpty && abs(evidence.ageGroupProbabilities.reduce(0, +) - 1) < 1e-9)
        #expect(face.ageConfidence == ClassifierReading.age(years: face.age, spread: 0.465).reading.confidence)
        // Each net ran on the face and its mirror image, once each.
        #expect(pipeline.classifiers.map(\.forwardCount) == [2, 2])
        // The agent's frames go to YuNet at the set's frames input and threshold, at their own aspect.
        var frames = PipelineSettings()
        frames.detection.frames = true
        frames.detection.keepAspect = true
        let framePipeline = try FacePipeline.load(from: models, settings: frames)
        let detector = try #require(framePipeline.detector as? YuNetDetector)
        #expect(detector.inputWidth == 320 && detector.inputHeight == 320 && detector.settings.fitToImage)
        #expect(
            detector.settings.scoreThreshold == 0.6
                && (pipeline.detector as? YuNetDetector)?.settings.scoreThreshold == 0.7)
        #expect((pipeline.detector as? YuNetDetector)?.inputWidth == 640, "photos at the set's input")
    }

    @Test(
        "every face of the group photos is found with the set's detector",
        .enabled(if: TestPaths.hasSharedFaces, "needs ../shared/faces/photos"))
    func groupPhotos() throws {
        let directory = try TemporaryDirectory()
        let pipeline = try FacePipeline.load(from: try Self.madeSet(in: directory))
        let rows = try String(contentsOfFile: TestPaths.sharedPhotos + "/faces.csv", encoding: .utf8).split(
            separator: "\n"
        ).dropFirst()
        for row in rows {
            let fields = row.split(separator: ",", maxSplits: 2)
            guard fields.count >= 2, let expected = Int(fields[1].prefix { $0.isNumber }) else { continue }
            var timings = StageTimings()
            let found = try pipeline.detectFaces(
                in: try Image.load(contentsOf: TestPaths.sharedPhotos + "/" + fields[0]), timings: &timings)
            #expect(found.faces.count >= expected, "\(fields[0]): \(found.faces.count) of \(expected)")
            #expect(
                found.faces.count <= expected + 2,
                "\(fields[0]): \(found.faces.count) faces, \(expected) (+ partly visible ones) expected")
        }
    }

    @Test("a net configured for both roles (face-api.js's, as preset custom with its outputs) runs once per face")
    func oneNetBothRoles() throws {
        let directory = try TemporaryDirectory()
        let models = try Self.madeSet(in: directory)
        let spec = ClassifierSpec(
            model: models.path + "/faceapi/age-gender-faceapi.onnx", inputWidth: 112, inputHeight: 112,
            colorOrder: .rgb, mean: [122.782, 117.001, 104.298], scale: 1.0 / 256, crop: .trimmedSquare(trimTop: 0.15),
            outputs: [
                ClassifierOutput(name: "age", kind: .ageYears),
                ClassifierOutput(name: "gender", kind: .genderProbabilities(labels: ["male", "female"])),
            ],
            ageSpread: 0.465)
        let pipeline = try FacePipeline.load(from: try ModelDirectory(path: TestPaths.models), gender: spec, age: spec)
        #expect(
            pipeline.classifiers.count == 1 && pipeline.detector is FaceDetector, "the default set's detector, one net")
        let face = try #require(
            try pipeline.analyse(try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")).first)
        #expect(face.gender == .female && (25...45).contains(face.age))
        #expect(pipeline.classifiers[0].forwardCount == 2, "one pass and its mirror")
    }

    @Test(
        "a damaged, an unknown or a missing upstream file, or a used destination, is refused by name and nothing is left half made"
    )
    func refusals() throws {
        let directory = try TemporaryDirectory()
        var damaged = try Data(contentsOf: URL(fileURLWithPath: Self.upstream[0]))
        damaged[damaged.count / 2] ^= 0xFF
        let damagedPath = directory.file("yunet_n_320_320.onnx")
        try damaged.write(to: URL(fileURLWithPath: damagedPath))
        let cases: [(files: [String], destination: String, says: String)] = [
            ([damagedPath] + Self.upstream.dropFirst(), directory.file("a"), "yunet_n_320_320.onnx: sha256"),
            (
                Self.upstream + [TestPaths.sharedModels + "/yunet/yunet_s_320_320.onnx"], directory.file("b"),
                "not a file this script knows"
            ),
            (Array(Self.upstream.prefix(2)), directory.file("c"), "missing: age_gender_model-shard1"),
            (Self.upstream, TestPaths.models, "exists and is not empty"),
        ]
        for item in cases {
            let result = try Self.make(item.destination, item.files)
            #expect(result.status != 0 && result.standardError.contains(item.says), "\(result.standardError)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0 != "yunet_n_320_320.onnx"
        }
        #expect(left.isEmpty, "\(left)")
    }
}
