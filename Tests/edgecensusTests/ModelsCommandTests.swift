import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("edgecensus models check", .serialized)
struct ModelsCommandTests {
    @Test(
        "the default set: every checksum, no manifest, the pipeline (res10 and the dlib nets) on the bundled astronaut; exit 0"
    )
    func defaultSet() throws {
        let result = try ProcessRunner.run(TestPaths.executable, ["models", "check", TestPaths.models])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("ok   files"))
        #expect(result.standardOutput.contains("none: the default set"))
        #expect(result.standardOutput.contains("1 face(s) on astronaut.png; the first female"))
        #expect(
            result.standardOutput.contains("res10 SSD and gender-v1-opencv.onnx, age-v1-opencv.onnx"),
            "\(result.standardOutput)")
        #expect(result.standardOutput.hasSuffix("every part passed\n"))
    }

    @Test("a damaged file fails its part, names the file, and the command exits 1")
    func damagedFile() throws {
        let directory = try TemporaryDirectory()
        let copy = directory.file("models")
        try FileManager.default.copyItem(atPath: TestPaths.models, toPath: copy)
        let victim = copy + "/dlib-cydral/gender-v1-opencv.onnx"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count - 10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: victim))
        let result = try ProcessRunner.run(
            TestPaths.executable, ["models", "check", copy, "--photo", TestPaths.samples + "/astronaut.png"])
        #expect(result.status == 1)
        #expect(
            result.standardOutput.contains("FAIL files") && result.standardOutput.contains("gender-v1-opencv.onnx"),
            "\(result.standardOutput)")
        #expect(result.standardOutput.contains("part(s) failed"))
    }

    @Test(
        "the optional set made by make-optional-set.sh: YuNet and face-api.js's net each run once on the astronaut",
        .enabled(if: OptionalModelSet.available, "needs ../shared/models (optional models are never committed)"))
    func optionalSet() throws {
        let directory = try TemporaryDirectory()
        let set = directory.file("optional")
        let made = try OptionalModelSet.make(set)
        try #require(made.status == 0, "\(made.standardError)")
        let result = try ProcessRunner.run(
            TestPaths.executable, ["models", "check", set, "--photo", TestPaths.samples + "/astronaut.png"])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(
            result.standardOutput.contains("ok   manifest         yunet-faceapi (edgecensus.model-set/1)"),
            "\(result.standardOutput)")
        #expect(
            result.standardOutput.contains("ok   detector yunet   1 face(s) on astronaut.png at 640x640"),
            "\(result.standardOutput)")
        #expect(result.standardOutput.contains("ok   net faceapi      age "), "\(result.standardOutput)")
        #expect(
            result.standardOutput.contains("YuNet and gender-v1-opencv.onnx, age-gender-faceapi.onnx"),
            "the set's pipeline: \(result.standardOutput)")
    }
}
