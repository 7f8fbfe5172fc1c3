import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// The rewritten dlib/Cydral graphs (Gemm weights transposed for OpenCV 4.6) must
/// answer what the original graphs answer. The expected outputs were computed once
/// from the originals with onnxruntime (Models/tools/make_onnx_agreement_fixture.py).
@Suite("Rewritten ONNX graphs agree with the originals")
struct OnnxAgreementTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var model: String
            var size: Int
            var input_rgb_planar_bytes: [UInt8]
            var expected: [Double]
        }
        var runtime: String
        var cases: [Case]
    }

    static func fixture() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/onnx-agreement", withExtension: "json"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test("OpenCV on the rewritten graphs matches onnxruntime on the originals", arguments: ["gender", "age"])
    func agreement(model: String) throws {
        let fixture = try Self.fixture()
        let models = try ModelDirectory(path: TestPaths.models)
        let spec: ClassifierSpec = model == "age" ? .dlibAge : .dlibGender
        let classifier = try FaceClassifier.load(spec, from: models, role: model)
        let cases = fixture.cases.filter { $0.model == model }
        #expect(cases.count == 3)
        for testCase in cases {
            // The fixture gives planar RGB bytes; an Image holds interleaved BGR.
            let plane = testCase.size * testCase.size
            var bgr = [UInt8](repeating: 0, count: 3 * plane)
            for index in 0..<plane {
                bgr[3 * index] = testCase.input_rgb_planar_bytes[2 * plane + index]
                bgr[3 * index + 1] = testCase.input_rgb_planar_bytes[plane + index]
                bgr[3 * index + 2] = testCase.input_rgb_planar_bytes[index]
            }
            let chip = try Image(width: testCase.size, height: testCase.size, channels: 3, pixels: bgr)
            let probabilities = try classifier.probabilities(for: chip)
            #expect(probabilities.count == testCase.expected.count)
            let worst = zip(probabilities, testCase.expected).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-4, "largest difference \(worst) against \(fixture.runtime)")
        }
    }
}
