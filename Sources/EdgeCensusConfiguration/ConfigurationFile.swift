public import EdgeCensusSupport

/// A configuration file, read and validated, that still knows the line of each
/// key: for the checks made after `load` (`config validate` checks the files and
/// models a configuration names, and reports each problem at its key's line).
public struct ConfigurationFile: Sendable {
    /// nil: no file, the defaults.
    public let path: String?
    public let configuration: AgentConfiguration
    /// The file's tree as written, its scalars read by each key's type.
    private let tree: YAMLTree

    public init(path: String) throws(ConfigurationError) {
        let (tree, configuration) = try AgentConfiguration.read(file: path)
        self.path = path
        self.configuration = configuration
        self.tree = tree
    }

    /// No file: the defaults.
    public init() {
        path = nil
        configuration = AgentConfiguration()
        tree = .mapping([])
    }

    /// The configuration with a JSON Merge Patch (RFC 7386) laid over the file
    /// (`null` puts a key back), checked whole with every check the file gets: how
    /// remote changes apply. An error names the key, as in the file.
    public func applying(_ patch: JSONValue) throws(ConfigurationError) -> AgentConfiguration {
        try AgentConfiguration.decode(tree.merging(patch: patch))
    }

    /// The line `key` (dotted) is written on, if it is written.
    public func line(of key: String) -> Int? { tree.line(of: key) }
}
