import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("Models directory and checksums")
struct ModelDirectoryTests {
    @Test("the shipped manifest lists every model file, and all of them verify")
    func shippedModelsVerify() throws {
        let models = try ModelDirectory(path: TestPaths.models)
        #expect(models.checksums.count == 7)
        for relative in models.checksums.keys.sorted() {
            #expect(throws: Never.self) { try models.verifiedFile(relative, role: relative) }
        }
    }

    @Test("a damaged model file is refused, naming the file and both checksums")
    func checksumMismatch() throws {
        let directory = try TemporaryDirectory()
        let root = try directory.copyOfModels(copying: ["levi-hassner/age_deploy.prototxt"])
        let damaged = root + "/levi-hassner/age_deploy.prototxt"
        let handle = try #require(FileHandle(forWritingAtPath: damaged))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("# one extra line\n".utf8))
        try handle.close()
        let models = try ModelDirectory(path: root)
        let error = thrownError(VisionError.self) {
            try models.verifiedFile("levi-hassner/age_deploy.prototxt", role: "age model")
        }
        guard case let .checksumMismatch(path, expected, actual, _) = error else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error))")
            return
        }
        #expect(path == damaged)
        #expect(expected == models.checksums["levi-hassner/age_deploy.prototxt"])
        #expect(actual != expected)
        #expect(error?.description.contains(damaged) == true)
    }

    @Test("a missing model file is reported with its path and role")
    func missingModel() throws {
        let directory = try TemporaryDirectory()
        let root = try directory.copyOfModels()
        try FileManager.default.removeItem(atPath: root + "/dlib-cydral/gender-v1-opencv.onnx")
        let models = try ModelDirectory(path: root)
        #expect(
            throws: VisionError.fileNotFound(
                path: root + "/dlib-cydral/gender-v1-opencv.onnx",
                role: "classification.gender model")
        ) {
            try FacePipeline.load(from: models)
        }
    }

    @Test("a configured checksum is checked for a file outside the manifest")
    func configuredChecksum() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("user.caffemodel")
        try writeFile(path, Data("abc".utf8))
        let models = try ModelDirectory(path: TestPaths.models)
        let good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(try models.verifiedFile(path, role: "weights", expectedSHA256: good) == path)
        #expect(throws: VisionError.self) {
            try models.verifiedFile(path, role: "weights", expectedSHA256: String(repeating: "0", count: 64))
        }
    }

    @Test("a directory without a manifest is refused")
    func missingManifest() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: VisionError.fileNotFound(path: directory.path + "/SHA256SUMS", role: "model checksum manifest"))
        {
            try ModelDirectory(path: directory.path)
        }
    }

    @Test("a malformed manifest line is reported with its number")
    func malformedManifest() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file("SHA256SUMS"), Data("# comment\nnot a checksum line\n".utf8))
        let error = thrownError(VisionError.self) { try ModelDirectory(path: directory.path) }
        #expect(error?.description.contains("line 2") == true)
    }
}
