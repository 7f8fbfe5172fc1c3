public import Foundation

/// Where the tests find the project's real files: the repository's `Models/` and
/// `etc/`, and the shared labelled faces beside the repository (`../shared`).
public enum TestPaths {
    /// The repository root, from this file's location (Tests/EdgeCensusTestSupport/).
    public static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public static let models = repository + "/Models"
    public static let samples = repository + "/etc/samples"
    public static let shared = URL(fileURLWithPath: repository + "/../shared").standardized.path
    public static let sharedPhotos = shared + "/faces/photos"

    /// The optional models a user installs (never committed): `../shared/models/yunet`, `…/faceapi`.
    public static let sharedModels = shared + "/models"
    public static var hasYuNet: Bool {
        FileManager.default.fileExists(atPath: sharedModels + "/yunet/yunet_n_320_320.onnx")
    }
    public static var hasFaceAPI: Bool {
        FileManager.default.fileExists(atPath: sharedModels + "/faceapi/age_gender_model-weights_manifest.json")
    }

    /// True when the shared test material (`../shared/faces`) is present.
    public static var hasSharedFaces: Bool { FileManager.default.fileExists(atPath: sharedPhotos + "/faces.csv") }

    /// The built `edgecensus` executable, beside the test bundle.
    public static var executable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("edgecensus").path
    }
}

/// A fresh temporary directory, removed when the value is released.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "edgecensus-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Copies the repository's models directory here (symlinking the big files
    /// unless `copying` lists them) so a test can damage or remove one file.
    public func copyOfModels(copying: Set<String> = []) throws -> String {
        let target = path + "/Models"
        let manager = FileManager.default
        guard let files = manager.enumerator(atPath: TestPaths.models) else { return target }
        for case let relative as String in files {
            let source = TestPaths.models + "/" + relative
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: source, isDirectory: &isDirectory)
            let destination = target + "/" + relative
            if isDirectory.boolValue {
                try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
            } else if copying.contains(relative) || relative == "SHA256SUMS" {
                try manager.copyItem(atPath: source, toPath: destination)
            } else {
                try manager.createSymbolicLink(atPath: destination, withDestinationPath: source)
            }
        }
        return target
    }
}

/// Writes a file, creating or replacing it.
public func writeFile(_ path: String, _ contents: Data) throws {
    try contents.write(to: URL(fileURLWithPath: path))
}

/// Windows are aligned to the wall clock: a test that wants one window throughout
/// takes a length (an hour or a little more) with no window boundary in the next
/// `seconds`, so that it never meets, say, 10:00:00 halfway through.
public enum WallClockWindow {
    public static func length(noBoundaryWithin seconds: Double, from now: Double = Date().timeIntervalSince1970)
        -> Double
    {
        var length = 3600.0
        while (now / length).rounded(.down) != ((now + seconds) / length).rounded(.down) { length += 100 }
        return length
    }
}
