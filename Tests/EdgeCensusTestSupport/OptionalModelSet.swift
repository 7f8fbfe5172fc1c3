import Foundation

/// The optional model set, made by `Models/tools/make-optional-set.sh` from the
/// upstream files in ../shared/models (optional models are never committed: tests
/// that need them skip without ../shared).
public enum OptionalModelSet {
    public static let script = TestPaths.models + "/tools/make-optional-set.sh"
    /// YuNet and face-api.js's weights, as downloaded from upstream.
    public static let upstream = [
        TestPaths.sharedModels + "/yunet/yunet_n_320_320.onnx",
        TestPaths.sharedModels + "/faceapi/age_gender_model-weights_manifest.json",
        TestPaths.sharedModels + "/faceapi/age_gender_model-shard1",
    ]
    /// Whether the upstream files are there.
    public static var available: Bool { TestPaths.hasYuNet && TestPaths.hasFaceAPI }

    /// Runs the script: `destination` from `files`, the default set from Models/.
    public static func make(_ destination: String, files: [String] = upstream) throws -> ProcessResult {
        try ProcessRunner.run("/bin/bash", [script, "--from", TestPaths.models, destination] + files)
    }
}
