import ArgumentParser

@main
struct EdgeCensusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgecensus",
        abstract: "Anonymous age and gender counts from a camera, published over MQTT.",
        discussion: """
            Faces are found with OpenCV's SSD detector, aligned on five landmarks, and \
            classified by the dlib/Cydral age and gender nets (or Levi & Hassner's, or your own). \
            No image, face crop or per-person record leaves the process.
            """,
        version: EdgeCensusVersion.current,
        subcommands: [RunCommand.self, DetectCommand.self, CamerasCommand.self, ConfigCommand.self, FleetCommand.self, BufferCommand.self, EvaluateCommand.self, BenchCommand.self]
    )
}

enum EdgeCensusVersion {
    static let current = "0.1.0"
}
