import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("dlib 5-point landmark model")
struct ShapePredictorTests {
    static let modelPath = TestPaths.models + "/dlib-cydral/shape_predictor_5_face_landmarks.dat"

    @Test("the shipped model reads completely and predicts five landmarks in the face")
    func landmarksOnAstronaut() throws {
        let predictor = try ShapePredictor(contentsOf: Self.modelPath)
        #expect(predictor.landmarkCount == 5)
        let image = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")
        // The SSD finds her face at about (178, 57) 93x121; give the predictor a square on it.
        let points = predictor.landmarks(in: image, box: Box(x: 178, y: 75, width: 93, height: 93))
        #expect(points.count == 5)
        // dlib's order: right eye outer, right eye inner (image left), left eye outer, left eye inner, nose.
        let (eyeA, eyeB, eyeC, eyeD, nose) = (points[0], points[1], points[2], points[3], points[4])
        #expect(eyeA.x > eyeB.x && eyeD.x > eyeC.x && eyeB.x > eyeD.x, "eye corners in dlib's order: \(points)")
        for eye in [eyeA, eyeB, eyeC, eyeD] { #expect(nose.y > eye.y + 10, "nose below the eyes: \(points)") }
        for point in points { #expect(point.x > 178 && point.x < 271 && point.y > 57 && point.y < 178) }
    }

    @Test("a truncated model is refused with a clear error, at every cut", arguments: [0, 1, 7, 100, 5000, 4_000_000])
    func truncated(length: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("cut.dat")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.modelPath)).prefix(length)
        try writeFile(path, bytes)
        let error = thrownError(VisionError.self) { try ShapePredictor(contentsOf: path) }
        guard case .malformedModel(let reported, _) = error else {
            Issue.record("expected malformedModel, got \(String(describing: error))")
            return
        }
        #expect(reported == path)
    }

    @Test("random bytes never crash the reader")
    func garbage() throws {
        let directory = try TemporaryDirectory()
        var generator = SplitMix64(seed: 7)
        for round in 0..<200 {
            let path = directory.file("garbage-\(round).dat")
            let count = Int(generator.next() % 4096)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Every other round, a plausible version.
            if round % 2 == 0, !bytes.isEmpty { bytes[0] = 0x01; if bytes.count > 1 { bytes[1] = 0x01 } }
            try writeFile(path, Data(bytes))
            #expect(throws: VisionError.self) { try ShapePredictor(contentsOf: path) }
        }
    }
}
