import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// face-api.js's age and gender net, rebuilt as ONNX by the project's own script
/// (an optional model: read from ../shared/models, converted into a temporary
/// directory, never committed).
@Suite(
    "face-api.js's age and gender net, rebuilt as ONNX",
    .enabled(if: TestPaths.hasFaceAPI, "needs ../shared/models/faceapi (optional models are never committed)"))
struct FaceAPIConversionTests {
    static let manifest = TestPaths.sharedModels + "/faceapi/age_gender_model-weights_manifest.json"

    static func convert(into directory: TemporaryDirectory) throws -> String {
        let graph = directory.file("age-gender-faceapi.onnx")
        let result = try ProcessRunner.run(
            "/usr/bin/python3", [TestPaths.models + "/tools/faceapi_to_onnx.py", manifest, graph])
        try #require(result.status == 0, "\(result.standardError)")
        return graph
    }

    @Test("OpenCV's forward of the rebuilt graph agrees with a NumPy reference of the TF.js maths on seeded inputs")
    func agreesWithReference() throws {
        let directory = try TemporaryDirectory()
        let graph = try Self.convert(into: directory)
        let check = try ProcessRunner.run(
            "/usr/bin/python3", [TestPaths.models + "/tools/check_faceapi_onnx.py", Self.manifest, graph, "6"])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        #expect(check.standardOutput.contains("6 seeded inputs"))
    }

    @Test(
        "the agent's OpenCV runs it with both heads at once: the astronaut, padded to a square, is a woman of about her age"
    )
    func astronaut() throws {
        let directory = try TemporaryDirectory()
        let network = try NeuralNetwork.onnx(path: try Self.convert(into: directory))
        // The face as face-api.js's own demo gives it: the detector's box, padded to a square with black, 112x112.
        let photo = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")
        let box = PixelBox(x: 178, y: 57, width: 93, height: 121)
        let side = max(box.width, box.height)
        let crop = try photo.warped(
            by: AffineTransform(
                a: 1, b: 0, tx: Double(box.x - (side - box.width) / 2), c: 0, d: 1,
                ty: Double(box.y)), width: side, height: side
        )
        .resized(width: 112, height: 112)
        let outputs = try network.forward(
            Blob(image: crop, order: .rgb, mean: [122.782, 117.001, 104.298], scale: 1.0 / 256),
            outputs: ["age", "gender"])
        try #require(outputs.count == 2 && outputs[0].count == 1 && outputs[1].count == 2)
        let age = Double(outputs[0][0]), female = Double(outputs[1][1])
        #expect(abs(Double(outputs[1][0] + outputs[1][1]) - 1) < 1e-5, "gender is a softmax over [male, female]")
        #expect(female > 0.5, "P(female) \(female)")
        #expect((25...55).contains(age), "age \(age)")  // Eileen Collins was about 35 in the portrait
    }
}
