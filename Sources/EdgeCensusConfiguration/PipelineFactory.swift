public import EdgeCensusVision

extension AgentConfiguration {
    /// Loads every model this configuration names into a ready pipeline: models
    /// directory located, checksums verified, classifier specs checked.
    public func makePipeline(modelsOverride: String? = nil) throws -> FacePipeline {
        let models = try ModelDirectory.locate(explicit: modelsOverride ?? modelsDirectory)
        if inferenceThreads > 0 { OpenCVRuntime.setThreadCount(inferenceThreads) }
        return try FacePipeline.load(from: models, gender: try gender.spec(isAge: false), age: try age.spec(isAge: true),
                                     settings: pipelineSettings)
    }
}
