import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// YuNet (an optional model: read from ../shared/models, never committed).
@Suite(
    "YuNet face detector",
    .enabled(
        if: TestPaths.hasYuNet && TestPaths.hasSharedFaces,
        "needs ../shared/models/yunet and ../shared/faces (optional models are never committed)"))
struct YuNetDetectorTests {
    static let model = TestPaths.sharedModels + "/yunet/yunet_n_320_320.onnx"

    struct ReferenceFace: Decodable {
        var box: [Double]
        var score: Double
        var landmarks: [[Double]]
    }

    /// The faces the NumPy decoder (Models/tools/yunet_reference.py, from OpenCV 4.10's
    /// FaceDetectorYN post-processing) finds, per photo.
    static func reference(_ photos: [String], threshold: Double, size: Int = 320) throws -> [String: [ReferenceFace]] {
        struct Line: Decodable { var image: String; var faces: [ReferenceFace] }
        let result = try ProcessRunner.run(
            "/usr/bin/python3",
            [
                TestPaths.models + "/tools/yunet_reference.py", model, "\(size)", "\(size)",
                String(threshold),
            ] + photos)
        try #require(result.status == 0, "\(result.standardError)")
        var faces: [String: [ReferenceFace]] = [:]
        for line in result.standardOutput.split(separator: "\n") {
            let decoded = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            faces[decoded.image] = decoded.faces
        }
        return faces
    }

    @Test(
        "the heads decoded as OpenCV 4.10 decodes them: on real photos, the same faces, boxes, scores and landmarks as an independent NumPy decoder"
    )
    func agreesWithReference() throws {
        let photos = [
            "two_people.jpg", "obama_and_biden.jpg", "kit_with_rose.jpg", "family-home.png", "a.png",
            "Meryl_Streep_0013.jpg", "astronaut.png",
        ].map { TestPaths.sharedPhotos + "/" + $0 }
        var settings = YuNetDetector.Settings()
        settings.minFaceSize = 0
        settings.scoreThreshold = 0.5  // more candidates than the default: more to agree on
        let detector = try YuNetDetector(
            network: try .onnx(path: Self.model), inputWidth: 320, inputHeight: 320, settings: settings)
        let expected = try Self.reference(photos, threshold: settings.scoreThreshold)
        var compared = 0
        for photo in photos {
            let found = try detector.detect(in: try Image.load(contentsOf: photo))
            let reference = try #require(expected[photo])
            #expect(found.count == reference.count, "\(photo): \(found.count) faces, the reference \(reference.count)")
            for (face, other) in zip(found, reference) {
                #expect(abs(face.score - other.score) < 1e-5, "\(photo)")
                let box = [face.box.x, face.box.y, face.box.width, face.box.height]
                #expect(zip(box, other.box).allSatisfy { abs($0 - $1) < 0.01 }, "\(photo): \(box) against \(other.box)")
                let points = face.landmarks.flatMap { [$0.x, $0.y] }
                #expect(zip(points, other.landmarks.flatMap { $0 }).allSatisfy { abs($0 - $1) < 0.01 }, "\(photo)")
                compared += 1
            }
        }
        #expect(compared >= 15)
    }

    @Test(
        "at the default score 0.9 it finds every face of the group photos and the portraits, with eyes above the mouth")
    func findsEveryListedFace() throws {
        let detector = try YuNetDetector(network: try .onnx(path: Self.model), inputWidth: 320, inputHeight: 320)
        for (photo, count) in [
            ("two_people.jpg", 2), ("kit_with_rose.jpg", 2), ("family-home.png", 4), ("a.png", 3),
            ("Meryl_Streep_0013.jpg", 1), ("Fayssal_Mekdad_0002.jpg", 1), ("astronaut.png", 1),
        ] {
            let faces = try detector.detect(in: try Image.load(contentsOf: TestPaths.sharedPhotos + "/" + photo))
            #expect(faces.count == count, "\(photo): \(faces.count) faces, \(count) expected")
            for face in faces {
                #expect(face.landmarks.count == 5)
                let eyes = max(face.landmarks[0].y, face.landmarks[1].y),
                    mouth = min(face.landmarks[3].y, face.landmarks[4].y)
                #expect(eyes < mouth, "\(photo)")
                #expect(
                    face.landmarks.allSatisfy { $0.x >= face.box.x - 2 && $0.x <= face.box.x + face.box.width + 2 },
                    "\(photo)")
            }
        }
    }

    @Test(
        "the 320x320 graph runs at other sizes that are multiples of 32: at 640x640 it finds the small face 320x320 misses, and agrees with the reference there too"
    )
    func otherInputSizes() throws {
        let photos = ["messi5.jpg", "obama_and_biden.jpg"].map { TestPaths.sharedPhotos + "/" + $0 }
        let small = try YuNetDetector(network: try .onnx(path: Self.model), inputWidth: 320, inputHeight: 320)
        let large = try YuNetDetector(network: try .onnx(path: Self.model), inputWidth: 640, inputHeight: 640)
        let messi = try Image.load(contentsOf: photos[0])
        #expect(try small.detect(in: messi).isEmpty)
        #expect(try large.detect(in: messi).count == 1)
        let reference = try Self.reference(photos, threshold: 0.9, size: 640)
        for photo in photos {
            let found = try large.detect(in: try Image.load(contentsOf: photo))
            #expect(
                found.map { ($0.score * 1e4).rounded() } == reference[photo]?.map { ($0.score * 1e4).rounded() },
                "\(photo)")
        }
        #expect(throws: VisionError.self) {
            try YuNetDetector(network: try .onnx(path: Self.model), inputWidth: 330, inputHeight: 320)
        }
    }
}

/// The decoding rules alone, on heads made by hand (no model needed).
@Suite("YuNet head decoding")
struct YuNetDecodingTests {
    /// Empty heads for a 64x64 input, with one cell of stride 8 set.
    static func heads(row: Int, column: Int, cls: Float, obj: Float, bbox: [Float], kps: [Float]) -> [[Float]] {
        var heads: [[Float]] = []
        for stride in YuNetDetector.strides {
            let cells = (64 / stride) * (64 / stride)
            var c = [Float](repeating: 0, count: cells), o = c
            var b = [Float](repeating: 0, count: 4 * cells), k = [Float](repeating: 0, count: 10 * cells)
            if stride == 8 {
                let cell = row * 8 + column
                c[cell] = cls
                o[cell] = obj
                b.replaceSubrange((4 * cell)..<(4 * cell + 4), with: bbox)
                k.replaceSubrange((10 * cell)..<(10 * cell + 10), with: kps)
            }
            heads += [c, o, b, k]
        }
        return heads
    }

    @Test(
        "score √(cls·obj) with both clamped to 0…1; centre (column + dx, row + dy)·stride; size e^(dw, dh)·stride; landmarks (column + kx, row + ky)·stride"
    )
    func oneCell() throws {
        let heads = Self.heads(
            row: 2, column: 3, cls: 0.81, obj: 1.7, bbox: [0.5, 0.25, Float(log(2.0)), 0],
            kps: [0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1])
        let faces = try YuNetDetector.decode(
            heads, inputWidth: 64, inputHeight: 64, scoreThreshold: 0.5, model: "hand-made")
        try #require(faces.count == 1)
        let face = faces[0]
        #expect(abs(face.score - 0.9) < 1e-6)  // √(0.81 · 1), obj clamped to 1
        #expect(abs(face.box.x - (28 - 8)) < 1e-5 && abs(face.box.y - (18 - 4)) < 1e-5)
        #expect(abs(face.box.width - 16) < 1e-5 && abs(face.box.height - 8) < 1e-5)
        #expect(face.landmarks.map { [$0.x, $0.y] } == [[24, 16], [32, 16], [28, 20], [24, 24], [32, 24]])
        let below = try YuNetDetector.decode(
            heads, inputWidth: 64, inputHeight: 64, scoreThreshold: 0.95, model: "hand-made")
        #expect(below.isEmpty)
    }

    @Test("heads that do not fit the input size are refused with what was expected")
    func mismatchedHeads() {
        let heads = Self.heads(
            row: 0, column: 0, cls: 1, obj: 1, bbox: [0, 0, 0, 0], kps: [Float](repeating: 0, count: 10))
        #expect(throws: VisionError.self) {
            try YuNetDetector.decode(heads, inputWidth: 96, inputHeight: 64, scoreThreshold: 0.5, model: "hand-made")
        }
    }

    @Test("suppression keeps the best of boxes overlapping by more than the threshold, and boxes that overlap less")
    func suppression() {
        func face(_ x: Double, _ score: Double) -> YuNetFace {
            YuNetFace(box: Box(x: x, y: 0, width: 10, height: 10), score: score, landmarks: [])
        }
        let kept = YuNetDetector.suppress([face(0, 0.8), face(1, 0.95), face(8, 0.9), face(30, 0.7)], threshold: 0.3)
        #expect(kept.map(\.score) == [0.95, 0.9, 0.7])
    }
}
