import EdgeCensusTestSupport
import Foundation
import Testing

/// The `edgecensus` executable, run as a user runs it.
@Suite("edgecensus detect", .serialized)
struct DetectCommandTests {
    static let astronaut = TestPaths.samples + "/astronaut.png"

    func detect(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(TestPaths.executable, ["detect", "--models", TestPaths.models] + arguments)
    }

    @Test("a table by default, one line per face")
    func table() throws {
        let result = try detect([Self.astronaut])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("astronaut.png: 1 face (512x512)"))
        #expect(result.standardOutput.contains("female"))
        #expect(result.standardOutput.contains("(25-32)") || result.standardOutput.contains("(38-43)"))
    }

    @Test("--json prints one JSON document per photo with every documented field")
    func json() throws {
        let photos = [Self.astronaut, TestPaths.samples + "/fairface_0152.jpg"]
        let result = try detect(["--json"] + photos)
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 2)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(document["image"] as? String == Self.astronaut)
        #expect(document["width"] as? Int == 512)
        let face = try #require((document["faces"] as? [[String: Any]])?.first)
        #expect(
            Set(face.keys) == [
                "box", "detection_confidence", "gender", "gender_confidence", "age", "age_group", "age_confidence",
            ])
        #expect(Set((face["box"] as? [String: Int])?.keys.map { $0 } ?? []) == ["x", "y", "width", "height"])
    }

    @Test("an answer below its threshold is unknown, shown with the confidence it had and the likelier answer")
    func unknownBelowThresholds() throws {
        let directory = try TemporaryDirectory()
        let config = directory.file("strict.yaml")
        try writeFile(config, Data("classification:\n  gender_min_confidence: 0.99\n  age_min_confidence: 0.9\n".utf8))
        let json = try detect(["--config", config, "--json", Self.astronaut])
        #expect(json.status == 0)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let face = try #require((document["faces"] as? [[String: Any]])?.first)
        #expect(face["gender"] as? String == "unknown")
        #expect(face["likely_gender"] as? String == "female")
        #expect((face["gender_confidence"] as? Double ?? 1) < 0.99)
        #expect(face["age_group"] as? String == "unknown")
        #expect(face["likely_age_group"] as? String == "(25-32)")
        let table = try detect(["--config", config, Self.astronaut])
        #expect(table.standardOutput.contains("unknown 0."), "\(table.standardOutput)")
        // With the defaults the same face is decided.
        let plain = try detect(["--json", Self.astronaut])
        #expect(plain.standardOutput.contains("\"gender\":\"female\""))
    }

    @Test("a missing, a non-image and a good photo: one-line errors, the good one still analysed, exit 1")
    func badFilesDoNotStopTheOthers() throws {
        let directory = try TemporaryDirectory()
        let text = directory.file("notes.jpg")
        try writeFile(text, Data("hello".utf8))
        let result = try detect(["/nonexistent/a.jpg", text, Self.astronaut])
        #expect(result.status == 1)
        let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("edgecensus:") }
        #expect(errors.count == 2)
        #expect(errors[0].contains("/nonexistent/a.jpg") && errors[0].contains("not found"))
        #expect(errors[1].contains(text) && errors[1].contains("not an image"))
        #expect(result.standardOutput.contains("astronaut.png: 1 face"))
    }

    @Test("in --json mode a failed photo also gets a document with its error")
    func jsonErrors() throws {
        let result = try detect(["--json", "/nonexistent/a.jpg"])
        #expect(result.status == 1)
        let document = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        #expect((document?["error"] as? String)?.contains("not found") == true)
    }

    @Test("--annotate writes a picture of the same size that a person can check")
    func annotate() throws {
        let directory = try TemporaryDirectory()
        let out = directory.file("annotated.png")
        let result = try detect(["--annotate", out, Self.astronaut])
        #expect(result.status == 0)
        #expect(FileManager.default.fileExists(atPath: out))
        let check = try detect(["--json", out])  // the annotated picture still decodes, same size
        #expect(check.standardOutput.contains("\"width\":512"))
        // Several photos go into a directory, under their own names.
        let folder = directory.file("many")
        let many = try detect(["--annotate", folder, Self.astronaut, TestPaths.samples + "/fairface_0019.jpg"])
        #expect(many.status == 0)
        #expect(FileManager.default.fileExists(atPath: folder + "/astronaut.png"))
        #expect(FileManager.default.fileExists(atPath: folder + "/fairface_0019.jpg"))
    }

    @Test("a damaged model stops the command with exit 2 and names the file")
    func damagedModel() throws {
        let directory = try TemporaryDirectory()
        let models = try directory.copyOfModels(copying: ["face-detector/deploy-opencv.prototxt"])
        let handle = try #require(FileHandle(forWritingAtPath: models + "/face-detector/deploy-opencv.prototxt"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
        let result = try ProcessRunner.run(TestPaths.executable, ["detect", "--models", models, Self.astronaut])
        #expect(result.status == 2)
        #expect(result.standardError.contains("checksum mismatch for \(models)/face-detector/deploy-opencv.prototxt"))
    }

    @Test("a configuration error stops the command with exit 2 and names the key")
    func badConfiguration() throws {
        let directory = try TemporaryDirectory()
        let config = directory.file("edgecensus.yaml")
        try writeFile(config, Data("detection:\n  min_face_size: -3\n".utf8))
        let result = try detect(["--config", config, Self.astronaut])
        #expect(result.status == 2)
        #expect(result.standardError.contains("detection.min_face_size"))
    }
}

@Suite("edgecensus evaluate and bench")
struct EvaluateAndBenchCommandTests {
    @Test("evaluate prints the figures for a small labelled set")
    func evaluate() throws {
        let directory = try TemporaryDirectory()
        let csv = directory.file("labels.csv")
        let rows = """
            file,age,age_min,age_max,gender,dataset
            \(TestPaths.samples)/fairface_0152.jpg,,20,29,male,Samples
            \(TestPaths.samples)/fairface_0121.jpg,,20,29,female,Samples
            \(TestPaths.samples)/astronaut.png,38,38,38,female,Portraits

            """
        try writeFile(csv, Data(rows.utf8))
        let result = try ProcessRunner.run(
            TestPaths.executable, ["evaluate", "--models", TestPaths.models, "--labels", csv])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("Samples: 2 photos"))
        #expect(result.standardOutput.contains("face detected          100.0 % (2/2)"))
        #expect(result.standardOutput.contains("age in labelled range"))
        #expect(result.standardOutput.contains("Portraits: 1 photos"))
        #expect(result.standardOutput.contains("Adience group one-off"))
        #expect(
            result.standardOutput.hasPrefix(
                "models: res10 SSD 300x300; gender: gender-v1-opencv.onnx; age: age-v1-opencv.onnx\n"),
            "the report names what it measured: \(result.standardOutput)")
    }

    @Test("bench prints per-stage figures and the OpenCV thread count")
    func bench() throws {
        let result = try ProcessRunner.run(
            TestPaths.executable,
            [
                "bench", "--models", TestPaths.models, "--runs", "2", "--threads", "1",
                TestPaths.samples + "/astronaut.png",
            ])
        #expect(result.status == 0)
        for stage in [
            "model load", "decode", "detect", "align, per face", "classify gender+age, per face", "whole photo",
            "1 thread",
            "models: res10 SSD",
        ] {
            #expect(result.standardOutput.contains(stage), "\(stage) in \(result.standardOutput)")
        }
    }
}
