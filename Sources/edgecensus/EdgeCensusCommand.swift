import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

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
        subcommands: [
            RunCommand.self, DetectCommand.self, CamerasCommand.self, ConfigCommand.self, FleetCommand.self,
            DashboardCommand.self, BufferCommand.self, ModelsCommand.self, EvaluateCommand.self, BenchCommand.self,
            DebugCommand.self,
        ]
    )

    /// Parses and runs the command, then ends the process without the teardown of the
    /// libraries it has loaded: their destructors would page in megabytes of their
    /// code at the last moment, for nothing (Tests/Bench/HISTORY.md). Every command has closed, synced and
    /// disconnected what it owns before it returns; standard output is flushed here.
    /// A failure still goes through ArgumentParser's exit, with its message and code.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
        endProcess(status: 0)
    }

    private static func endProcess(status: Int32) -> Never {
        #if canImport(Glibc)
            fflush(nil)
            _exit(status)
        #else
            exit(status)
        #endif
    }
}

enum EdgeCensusVersion {
    static let current = "0.1.0"
}
