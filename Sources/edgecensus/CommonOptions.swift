import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusVision
import Foundation

/// Options every command that runs the models shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Configuration file (YAML).",
        discussion: "Default: /etc/edgecensus/edgecensus.yaml when it exists, else built-in defaults.",
        valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Models directory (holding SHA256SUMS); overrides models.directory.", valueName: "dir"))
    var models: String?

    static let systemConfiguration = "/etc/edgecensus/edgecensus.yaml"

    func loadConfiguration() throws -> AgentConfiguration {
        if let config { return try AgentConfiguration.load(file: config) }
        if FileManager.default.fileExists(atPath: Self.systemConfiguration) {
            return try AgentConfiguration.load(file: Self.systemConfiguration)
        }
        return AgentConfiguration()
    }

    /// The configuration and its pipeline, or a one-line error and exit status 2.
    /// `forPhotos` false: for camera frames, which are never framed by a border.
    func loadPipeline(forPhotos: Bool = true) throws -> (AgentConfiguration, FacePipeline) {
        do {
            var configuration = try loadConfiguration()
            if !forPhotos { configuration.detection.border = 0 }
            return (configuration, try configuration.makePipeline(modelsOverride: models))
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
    }
}

enum StandardError {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
