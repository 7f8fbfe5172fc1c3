/// What went wrong while loading a model or an image, or running a network, said so
/// that the user knows which file is concerned and what to do about it.
public enum VisionError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist (or is not a regular file).
    case fileNotFound(path: String, role: String)
    /// The file exists but could not be read (permissions, I/O).
    case fileUnreadable(path: String, reason: String)
    /// The file is there but is not a decodable image.
    case notAnImage(path: String, reason: String)
    /// A model file's SHA-256 differs from the one in the manifest.
    case checksumMismatch(path: String, expected: String, actual: String, manifest: String)
    /// OpenCV refused to load a network.
    case modelLoadFailed(path: String, reason: String)
    /// A model file is in a format EdgeCensus cannot parse (e.g. a damaged shape predictor).
    case malformedModel(path: String, reason: String)
    /// A network ran but its output does not fit what the configuration says it is.
    case unexpectedOutput(model: String, reason: String)
    /// An OpenCV image operation failed.
    case imageOperationFailed(operation: String, reason: String)
    /// A model specification (a classifier's, a detector's input size) cannot work as written.
    case invalidSpecification(key: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path, role):
            return "\(role) not found: \(path) (check the path, or the models directory)"
        case let .fileUnreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .notAnImage(path, reason):
            return "not an image: \(path) (\(reason))"
        case let .checksumMismatch(path, expected, actual, manifest):
            return "checksum mismatch for \(path): expected sha256 \(expected) (from \(manifest)), found \(actual);"
                + " the file is damaged or was replaced: reinstall it, or update the manifest if the change is intended"
        case let .modelLoadFailed(path, reason):
            return "OpenCV could not load the model \(path): \(reason)"
        case let .malformedModel(path, reason):
            return "malformed model file \(path): \(reason)"
        case let .unexpectedOutput(model, reason):
            return "model \(model) gave an unexpected output: \(reason)"
        case let .imageOperationFailed(operation, reason):
            return "image operation \(operation) failed: \(reason)"
        case let .invalidSpecification(key, reason):
            return "invalid model specification at \(key): \(reason)"
        }
    }
}
