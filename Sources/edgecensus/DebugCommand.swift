import ArgumentParser
import EdgeCensusCapture
import EdgeCensusCounting
import EdgeCensusMotion
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
        subcommands: [DecodeImage.self, NextWindowNumber.self, MotionTrace.self])

    struct DecodeImage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "image", abstract: "Decode an image file as detect and the image folder do.")

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
        static let configuration = CommandConfiguration(
            commandName: "sequence",
            abstract: "Read a sequence file as the agent does at start, and take the next number.")

        @Argument var file: String

        func run() throws {
            let store = SequenceStore(path: file, now: Date().timeIntervalSince1970)
            if let note = store.recoveryNote { StandardError.print("edgecensus: warning: \(note)") }
            let number = store.next()
            if let fault = store.fault { StandardError.print("edgecensus: warning: \(fault)") }
            print("next window: \(number)")
        }
    }

    struct MotionTrace: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "motion",
            abstract: "Run the motion check over a video's frames and print, per frame, what it saw.")

        @Argument var video: String
        @Option var threshold = MotionSettings().threshold
        @Option var minAreaPercent = MotionSettings().minAreaPercent

        func run() throws {
            var settings = MotionSettings()
            settings.threshold = threshold
            settings.minAreaPercent = minAreaPercent
            let detector = MotionDetector(settings: settings)
            do {
                let source = try VideoFileSource(path: video, realtime: false)
                defer { source.close() }
                var frames = 0, moving = 0
                var spent = Duration.zero
                while let frame = try source.nextFrame() {
                    let started = ContinuousClock.now
                    let seen = try detector.observe(frame.image, at: frame.time)
                    spent += ContinuousClock.now - started
                    frames += 1
                    if seen.isMotion { moving += 1 }
                    let region = seen.region.map { "\($0.x),\($0.y) \($0.width)x\($0.height)" } ?? "-"
                    print(
                        String(
                            format: "%8.2f %7.3f%% %@ %@ shift %+.1f %@", frame.time, seen.changedShare * 100,
                            seen.isMotion ? "motion" : "still ", seen.relearned ? "relearned" : "         ",
                            seen.brightnessShift, region))
                }
                let milliseconds = Double(spent.components.seconds) * 1000 + Double(spent.components.attoseconds) / 1e15
                let perFrame = milliseconds / Double(max(frames, 1))
                print(
                    String(
                        format: "%d frames, %d with motion (%.1f %%); %.3f ms per frame", frames, moving,
                        Double(moving) / Double(max(frames, 1)) * 100, perFrame))
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
        }
    }
}
