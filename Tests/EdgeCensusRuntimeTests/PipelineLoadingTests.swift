import EdgeCensusConfiguration
import EdgeCensusRuntime
import EdgeCensusVision
import Testing

/// How a configuration becomes a pipeline's settings, for photos and for frames.
@Suite("Pipelines from a configuration")
struct PipelineLoadingTests {
    @Test(
        "frames keep their aspect ratio for the detector and are never framed by a border; photos are framed and squashed"
    )
    func photosAndFrames() throws {
        let configuration = AgentConfiguration()
        let frames = configuration.pipelineSettings(for: .frames).detection
        let photos = configuration.pipelineSettings(for: .photos).detection
        #expect(frames.keepAspect && frames.border == 0)
        #expect(!photos.keepAspect && photos.border == configuration.detection.border)
        let squashed = try AgentConfiguration.parse(yaml: "detection:\n  keep_aspect: false\n")
        #expect(!squashed.pipelineSettings(for: .frames).detection.keepAspect)
    }
}
