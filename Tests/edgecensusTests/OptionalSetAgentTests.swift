import EdgeCensusTestSupport
import Foundation
import Testing

/// The agent (`run`) on the optional model set made from ../shared/models.
@Suite(
    "edgecensus run on the optional model set", .tags(.slow), .serialized,
    .enabled(
        if: OptionalModelSet.available,
        "needs ../shared/models/yunet and …/faceapi (optional models are never committed)"))
struct OptionalSetAgentTests {
    /// The set, made in `directory` from the upstream files.
    static func makeSet(in directory: TemporaryDirectory) throws -> String {
        let set = directory.file("optional")
        let made = try OptionalModelSet.make(set)
        try #require(made.status == 0, "\(made.standardError)")
        return set
    }

    @Test("evaluate and bench name the set's detector and nets, with the gender's weights, on their first lines")
    func reportsNameTheSet() throws {
        let directory = try TemporaryDirectory()
        let set = try Self.makeSet(in: directory)
        let csv = directory.file("labels.csv")
        try writeFile(
            csv,
            Data(
                "file,age,age_min,age_max,gender,dataset\n\(TestPaths.samples)/fairface_0152.jpg,,20,29,male,Samples\n"
                    .utf8))
        let evaluated = try ProcessRunner.run(TestPaths.executable, ["evaluate", "--models", set, "--labels", csv])
        #expect(evaluated.status == 0, "\(evaluated.standardError)")
        #expect(
            evaluated.standardOutput.hasPrefix(
                "models: YuNet 640x640, score ≥ 0.7; gender: gender-v1-opencv.onnx × 0.263 + "
                    + "age-gender-faceapi.onnx × 0.548; age: age-gender-faceapi.onnx\n"), "\(evaluated.standardOutput)")
        let bench = try ProcessRunner.run(
            TestPaths.executable, ["bench", "--models", set, "--runs", "2", TestPaths.samples + "/astronaut.png"])
        #expect(bench.status == 0 && bench.standardOutput.contains("models: YuNet 640x640"), "\(bench.standardOutput)")
    }

    @Test("the sample video is counted as with the default set: 1, 3 and 2 people, three women and three men")
    func sampleVideo() throws {
        let directory = try TemporaryDirectory()
        let set = try Self.makeSet(in: directory)
        let config = directory.file("walkers.yaml")
        let text = try String(contentsOfFile: TestPaths.samples + "/walkers.yaml", encoding: .utf8)
            .replacingOccurrences(of: "etc/samples/walkers.mp4", with: TestPaths.samples + "/walkers.mp4")
            .replacingOccurrences(of: "/tmp/edgecensus-sample", with: directory.file("state"))
        try writeFile(config, Data(text.utf8))
        let result = try ProcessRunner.run(TestPaths.executable, ["run", "--models", set, "--config", config])
        #expect(result.status == 0, "\(result.standardError)")
        let windows = try result.standardOutput.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(windows.map { $0["people"] as? Int } == [1, 3, 2])
        let genders = windows.compactMap { $0["gender"] as? [String: Any] }
        #expect(genders.reduce(0) { $0 + ($1["female"] as? Int ?? 0) } == 3)
        #expect(genders.reduce(0) { $0 + ($1["male"] as? Int ?? 0) } == 3)
    }
}
