/// A configuration that cannot be used, naming the key, the value found and what
/// was expected.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `detection.confidence_threshold`.
    public var key: String
    public var problem: String
    /// The file concerned, when the configuration came from one.
    public var file: String?
    /// The line of the key in the file (1-based), when it is known.
    public var line: Int?

    public init(key: String, problem: String, file: String? = nil, line: Int? = nil) {
        self.key = key
        self.problem = problem
        self.file = file
        self.line = line
    }

    public var description: String {
        let location = file.map { "\($0)\(line.map { ":\($0)" } ?? ""): " } ?? (line.map { "line \($0): " } ?? "")
        return key.isEmpty ? "\(location)\(problem)" : "\(location)\(key): \(problem)"
    }
}
