import ArgumentParser
import EdgeCensusEvaluation
import EdgeCensusVision
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print per-stage latency figures (a measurement, not a test).",
        discussion: """
            Loads the models (timed), then analyses the photo N times: decode, detect, align and \
            classify per face, and the whole photo; median and 95th percentile.

            Example:
              edgecensus bench --runs 50 --threads 1 Samples/astronaut.png
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "How many timed runs.")
    var runs = 30

    @Option(name: .long, help: "OpenCV threads (default: the configuration's classification.threads, else OpenCV's own).")
    var threads: Int?

    @Argument(help: ArgumentHelp("The photo to analyse.", valueName: "photo"))
    var photo: String

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive.") }
    }

    func run() throws {
        do {
            let result = try LatencyBenchmark.measure(photo: photo, runs: runs) {
                let pipeline = try modelOptions.loadPipeline().1
                if let threads { OpenCVRuntime.setThreadCount(threads) }
                return pipeline
            }
            print(result.text)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }
}
