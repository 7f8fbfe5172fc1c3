import ArgumentParser
import EdgeCensusVision
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Checks a model set.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verifies every file of a model set and runs each of its nets once on a photo.",
            discussion: """
                DIR: a model set (default: the one the agent would use: $EDGECENSUS_MODELS, the source tree's \
                Models/, /usr/share/edgecensus/models). Checks every checksum of SHA256SUMS, reads model-set.json \
                if the set has one (an optional set, made by make-optional-set.sh), runs the agent's pipeline on the \
                photo (the set's detector and nets as model-set.json combines them, else the default nets), then \
                the set's detector and each of its nets on the face found. One line per part; exit 0 \
                when every part passed, 1 otherwise.

                Examples:
                  edgecensus models check
                  edgecensus models check /var/lib/edgecensus/models-optional
                """)

        @Argument(help: ArgumentHelp("The model set's directory.", valueName: "dir"))
        var directory: String?

        @Option(
            name: .long,
            help: ArgumentHelp("A photo with a face (default: the bundled astronaut.png).", valueName: "file"))
        var photo: String?

        func run() throws {
            let models: ModelDirectory
            let image: Image
            let photoPath: String
            do {
                models = try ModelDirectory.locate(explicit: directory)
                photoPath = try photo ?? Self.bundledPhoto(near: models)
                image = try Image.load(contentsOf: photoPath)
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            print("model set \(models.path)")
            let lines = ModelSetCheck.run(models, photo: image, photoName: (photoPath as NSString).lastPathComponent)
            for line in lines {
                print(
                    "  \(line.passed ? "ok  " : "FAIL") \(line.part.padding(toLength: 16, withPad: " ", startingAt: 0)) \(line.detail)"
                )
            }
            let failed = lines.filter { !$0.passed }.count
            print(failed == 0 ? "every part passed" : "\(failed) part(s) failed")
            if failed > 0 { throw ExitCode(1) }
        }

        /// The astronaut (NASA, public domain): beside the set's or the default set's
        /// directory (the source tree's etc/samples, the package's samples).
        static func bundledPhoto(near models: ModelDirectory) throws -> String {
            let directories = [models.path, (try? ModelDirectory.locate())?.path].compactMap { $0 }
            let candidates =
                directories.flatMap { directory -> [String] in
                    let parent = (directory as NSString).deletingLastPathComponent
                    return [parent + "/etc/samples/astronaut.png", parent + "/samples/astronaut.png"]
                } + ["/usr/share/edgecensus/samples/astronaut.png"]
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw ValidationError(
                    "no bundled photo (looked for \(candidates.joined(separator: ", "))); give --photo FILE")
            }
            return found
        }
    }
}
