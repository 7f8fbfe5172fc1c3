public import EdgeCensusConfiguration
public import EdgeCensusVision

/// What a pipeline will look at: still photos (`detect`, `evaluate`) or the frames
/// of a camera or a video (the agent).
public enum PipelineUse: Sendable {
    /// Photos are also searched framed by a border (`detection.border`) and given to
    /// the detector squashed to 300x300, which finds more small faces in a still photo.
    case photos
    /// Frames are never framed by a border, and go to the detector at their own aspect
    /// ratio when `detection.keep_aspect` says so (about half the work on 16:9 frames).
    case frames
}

extension AgentConfiguration {
    /// Loads every model this configuration names into a ready pipeline: models
    /// directory located, checksums verified, classifier specs checked.
    public func makePipeline(modelsOverride: String? = nil, for use: PipelineUse = .frames) throws -> FacePipeline {
        let models = try ModelDirectory.locate(explicit: modelsOverride ?? modelsDirectory)
        if inferenceThreads > 0 { OpenCVRuntime.setThreadCount(inferenceThreads) }
        return try FacePipeline.load(
            from: models, gender: try gender.spec(isAge: false), age: try age.spec(isAge: true),
            settings: pipelineSettings(for: use))
    }

    /// The pipeline settings for photos or for frames.
    public func pipelineSettings(for use: PipelineUse) -> PipelineSettings {
        var settings = pipelineSettings
        switch use {
        case .photos: settings.detection.keepAspect = false
        case .frames:
            settings.detection.border = 0
            settings.detection.frames = true
        }
        return settings
    }
}
