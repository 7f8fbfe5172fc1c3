import Foundation
import Synchronization

/// The folder that holds the model files and their checksum manifest
/// (`SHA256SUMS`, in `sha256sum` format), and the one place that turns a
/// configured model path into a verified file.
public struct ModelDirectory: Sendable {
    /// The manifest's file name inside the directory.
    public static let manifestName = "SHA256SUMS"

    public let path: String
    /// Relative path → expected SHA-256, from the manifest.
    public let checksums: [String: String]

    /// Opens a models directory and reads its manifest.
    public init(path: String) throws(VisionError) {
        self.path = path
        let manifest = (path as NSString).appendingPathComponent(Self.manifestName)
        guard FileManager.default.fileExists(atPath: manifest) else {
            throw .fileNotFound(path: manifest, role: "model checksum manifest")
        }
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
            throw .fileUnreadable(path: manifest, reason: "not readable UTF-8 text")
        }
        var checksums: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit) else {
                throw .malformedModel(path: manifest, reason: "line \(number + 1) is not '<sha256>  <file>'")
            }
            let name = parts[1].hasPrefix("*") ? String(parts[1].dropFirst()) : parts[1]
            checksums[name] = parts[0].lowercased()
        }
        self.checksums = checksums
    }

    /// Finds the models directory: an explicit path; else `$EDGECENSUS_MODELS`; else
    /// `Models/` in the source tree the executable was built in (development); else
    /// the packaged `/usr/share/edgecensus/models`.
    public static func locate(explicit: String? = nil, executablePath: String = CommandLine.arguments[0])
        throws(VisionError) -> ModelDirectory
    {
        if let explicit { return try ModelDirectory(path: explicit) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["EDGECENSUS_MODELS"], !fromEnvironment.isEmpty {
            return try ModelDirectory(path: fromEnvironment)
        }
        var candidates: [String] = []
        var folder = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("Models").path)
            candidates.append(folder.appendingPathComponent("share/edgecensus/models").path)
            folder.deleteLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/Models")
        candidates.append("/usr/share/edgecensus/models")
        for candidate in candidates
        where FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent(manifestName)) {
            return try ModelDirectory(path: candidate)
        }
        throw .fileNotFound(
            path: candidates.last!, role: "models directory (set models.directory or EDGECENSUS_MODELS)")
    }

    /// Resolves a configured path against the directory, checks that the file exists,
    /// and verifies its checksum: against `expectedSHA256` when the configuration gives
    /// one, else against the manifest when the file is listed there.
    public func verifiedFile(_ configured: String, role: String, expectedSHA256: String? = nil) throws(VisionError)
        -> String
    {
        let full = configured.hasPrefix("/") ? configured : (path as NSString).appendingPathComponent(configured)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .fileNotFound(path: full, role: role)
        }
        let relative = full.hasPrefix(path + "/") ? String(full.dropFirst(path.count + 1)) : nil
        let expected = expectedSHA256?.lowercased() ?? relative.flatMap { checksums[$0] }
        if let expected {
            let actual = try VerifiedChecksums.shared.digest(of: full)
            guard actual == expected else {
                let source =
                    expectedSHA256 != nil
                    ? "the configuration" : (path as NSString).appendingPathComponent(Self.manifestName)
                throw .checksumMismatch(path: full, expected: expected, actual: actual, manifest: source)
            }
        }
        return full
    }
}

/// Remembers the digests computed in this process, keyed by path, size and
/// modification time, so that loading the same model twice hashes it once.
final class VerifiedChecksums: Sendable {
    static let shared = VerifiedChecksums()
    private let cache = Mutex<[String: String]>([:])

    func digest(of path: String) throws(VisionError) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\(path)|\(size)|\(modified)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let digest = try SHA256.hexDigest(ofFile: path)
        cache.withLock { $0[key] = digest }
        return digest
    }
}
