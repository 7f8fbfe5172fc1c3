import EdgeCensusConfiguration
import Testing

/// Expects `yaml` to be refused with an error naming `key` and saying `problem`.
func expectRefusal(of yaml: String, key: String, problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: ConfigurationError.self, sourceLocation: sourceLocation) {
        try AgentConfiguration.parse(yaml: yaml)
    }
    #expect(error?.key == key, "\(String(describing: error))", sourceLocation: sourceLocation)
    #expect(
        error?.description.contains(problem) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
}
