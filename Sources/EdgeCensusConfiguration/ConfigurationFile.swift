/// A configuration file, read and validated, that still knows the line of each
/// key: for the checks made after `load` (`config validate` checks the files and
/// models a configuration names, and reports each problem at its key's line).
public struct ConfigurationFile: Sendable {
    public let path: String
    public let configuration: AgentConfiguration
    private let tree: YAMLTree

    public init(path: String) throws(ConfigurationError) {
        let (tree, configuration) = try AgentConfiguration.read(file: path)
        self.path = path
        self.configuration = configuration
        self.tree = tree
    }

    /// The line `key` (dotted) is written on, if it is written.
    public func line(of key: String) -> Int? { tree.line(of: key) }
}
