/// A configuration that cannot be used, naming the key, the value found and what
/// was expected.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `detection.confidence_threshold`.
    public var key: String
    public var problem: String
    /// The file concerned, when the configuration came from one.
    public var file: String?

    public init(key: String, problem: String, file: String? = nil) {
        self.key = key
        self.problem = problem
        self.file = file
    }

    public var description: String {
        let location = file.map { "\($0): " } ?? ""
        return key.isEmpty ? "\(location)\(problem)" : "\(location)\(key): \(problem)"
    }
}
