/// A configuration that cannot be used, naming the key, the value found and what
/// was expected.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// What kind of problem it is, for callers that act on it (never on the text).
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The file cannot be read: missing, unreadable, not a regular file.
        case file
        /// Not valid YAML or JSON: the text, an alias without an anchor, a tag, a merge key.
        case syntax
        /// Beyond what a configuration may be: its size, nesting, aliases expanded, a value's length.
        case tooLarge = "too_large"
        /// A key the schema does not have at that place.
        case unknownKey = "unknown_key"
        /// A value of the wrong type: text where a number is expected, a list for a mapping.
        case wrongType = "wrong_type"
        /// A key that must be given is missing.
        case missingKey = "missing_key"
        /// A number outside the key's range.
        case outOfRange = "out_of_range"
        /// A value of the right type that the key does not accept.
        case invalidValue = "invalid_value"
    }

    public var kind: Kind
    /// Dotted path of the key, e.g. `detection.confidence_threshold`.
    public var key: String
    public var problem: String
    /// The file concerned, when the configuration came from one.
    public var file: String?
    /// The line of the key in the file (1-based), when it is known.
    public var line: Int?

    public init(_ kind: Kind = .invalidValue, key: String, problem: String, file: String? = nil, line: Int? = nil) {
        self.kind = kind
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
