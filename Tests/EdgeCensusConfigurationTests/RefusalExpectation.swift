import EdgeCensusConfiguration
import EdgeCensusTestSupport
import Testing

/// Expects `yaml` to be refused with an error naming `key` and saying `problem`.
func expectRefusal(of yaml: String, key: String, problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = thrownError(ConfigurationError.self, sourceLocation: sourceLocation) {
        try AgentConfiguration.parse(yaml: yaml)
    }
    #expect(error?.key == key, "\(String(describing: error))", sourceLocation: sourceLocation)
    #expect(
        error?.description.contains(problem) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
}
