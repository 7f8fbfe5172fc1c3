import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// The seed's nets: the shipped deploy.prototxt files with weights that a test
/// writes. All weights are zero except fc8's bias, so the net's answer is
/// softmax(bias) whatever the face: a known answer that checks the prototxt, the
/// weight import, the input handling and the label order end to end.
@Suite("Levi & Hassner Caffe nets with generated weights")
struct LeviHassnerTests {
    static func layers(outputs: Int, bias: [Float]) -> [CaffeModelWriter.Layer] {
        [
            .init(name: "conv1", blobs: [([96, 3, 7, 7], nil), ([96], nil)]),
            .init(name: "conv2", blobs: [([256, 96, 5, 5], nil), ([256], nil)]),
            .init(name: "conv3", blobs: [([384, 256, 3, 3], nil), ([384], nil)]),
            .init(name: "fc6", blobs: [([512, 384 * 7 * 7], nil), ([512], nil)]),
            .init(name: "fc7", blobs: [([512, 512], nil), ([512], nil)]),
            .init(name: "fc8", blobs: [([outputs, 512], nil), ([outputs], bias)]),
        ]
    }

    static func pipeline(genderWeights: String, ageWeights: String) throws -> FacePipeline {
        try FacePipeline.load(
            from: try ModelDirectory(path: TestPaths.models),
            gender: .leviHassnerGender(weights: genderWeights),
            age: .leviHassnerAge(weights: ageWeights))
    }

    @Test("gender_net (V1 weights) and age_net (V2 weights) load and answer as their weights say")
    func knownAnswer() throws {
        let directory = try TemporaryDirectory()
        let gender = directory.file("gender_net.caffemodel"), age = directory.file("age_net.caffemodel")
        // Gender order is [male, female]: bias favours female by e^2.
        try CaffeModelWriter.write(Self.layers(outputs: 2, bias: [0, 2]), format: .v1, to: gender)
        // Age: the fourth group, (15-20), is the most likely.
        try CaffeModelWriter.write(Self.layers(outputs: 8, bias: [0, 0, 0, 3, 1, 0, 0, 0]), format: .v2, to: age)

        let faces = try Self.pipeline(genderWeights: gender, ageWeights: age)
            .analyse(try Image.load(contentsOf: TestPaths.samples + "/astronaut.png"))
        let face = try #require(faces.first)
        #expect(faces.count == 1)
        #expect(face.gender == .female)
        #expect(abs(face.genderConfidence - Double(exp(2.0) / (1 + exp(2.0)))) < 1e-3)
        #expect(face.ageGroup == .from15to20)
        #expect(face.age == 17.5)
        let total = 7 + exp(3.0) + exp(1.0) - 1
        #expect(abs(face.ageConfidence - exp(3.0) / total) < 1e-3)
    }

    @Test("weights whose shapes do not fit the prototxt are refused with OpenCV's reason")
    func wrongShape() throws {
        let directory = try TemporaryDirectory()
        let gender = directory.file("gender_net.caffemodel"), age = directory.file("age_net.caffemodel")
        try CaffeModelWriter.write(Self.layers(outputs: 2, bias: [0, 0]), format: .v2, to: gender)
        // An age net with 10 outputs does not fit the 8-group age_deploy.prototxt.
        try CaffeModelWriter.write(Self.layers(outputs: 10, bias: Array(repeating: 0, count: 10)), format: .v2, to: age)
        #expect(throws: VisionError.self) {
            let pipeline = try Self.pipeline(genderWeights: gender, ageWeights: age)
            _ = try pipeline.analyse(try Image.load(contentsOf: TestPaths.samples + "/astronaut.png"))
        }
    }

    @Test("a missing .caffemodel is reported with its path")
    func missingWeights() throws {
        #expect(
            throws: VisionError.fileNotFound(path: "/nowhere/age_net.caffemodel", role: "classification.age weights")
        ) {
            let directory = try TemporaryDirectory()
            let gender = directory.file("gender_net.caffemodel")
            try CaffeModelWriter.write(Self.layers(outputs: 2, bias: [0, 0]), format: .v2, to: gender)
            _ = try Self.pipeline(genderWeights: gender, ageWeights: "/nowhere/age_net.caffemodel")
        }
    }
}
