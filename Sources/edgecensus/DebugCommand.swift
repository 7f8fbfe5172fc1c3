import ArgumentParser
import EdgeCensusCounting
import EdgeCensusVision
import Foundation

/// Reads one input the way the agent reads it and says what came of it, for the
/// fuzz tests (each case runs in a child process under an address-space limit).
/// Hidden from the help: it is not for operators.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Read one input as the agent would (for tests).",
        shouldDisplay: false,
        subcommands: [DecodeImage.self, NextWindowNumber.self])

    struct DecodeImage: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "image", abstract: "Decode an image file as detect and the image folder do.")

        @Argument var file: String
        @Option var maxMegapixels = Image.defaultMaxPixels / 1_000_000

        func run() throws {
            do {
                let image = try Image.load(contentsOf: file, maxPixels: maxMegapixels * 1_000_000)
                print("\(file): \(image.width)x\(image.height)")
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
        }
    }

    struct NextWindowNumber: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sequence", abstract: "Read a sequence file as the agent does at start, and take the next number.")

        @Argument var file: String

        func run() throws {
            let store = SequenceStore(path: file, now: Date().timeIntervalSince1970)
            if let note = store.recoveryNote { StandardError.print("edgecensus: warning: \(note)") }
            let number = store.next()
            if let fault = store.fault { StandardError.print("edgecensus: warning: \(fault)") }
            print("next window: \(number)")
        }
    }
}
