public import EdgeCensusSupport

extension JSONValue {
    /// Parses YAML text (an empty document is an empty object), by the rules of the
    /// configuration file.
    public static func parse(yaml text: String) throws -> JSONValue {
        guard let tree = try YAMLTree.parse(text) else { return .object([:]) }
        return try tree.decode(JSONValue.self)
    }
}
