import ArgumentParser
import EdgeCensusEvaluation
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure accuracy on a labelled set of face photos.",
        discussion: """
            The CSV has the columns file,age,age_min,age_max,gender,dataset (files relative to \
            the CSV). Each photo is scored on its largest face. Printed per dataset: face-detection \
            rate, gender accuracy, age MAE and Adience-group exact and one-off accuracy (rows with \
            an exact age), share of ages inside the labelled range (rows with a range), and the \
            gender confusion matrix.

            Example:
              edgecensus evaluate --labels ../shared/faces/labels.csv
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("The labelled set (CSV).", valueName: "file.csv"))
    var labels: String

    @Flag(name: .long, help: "Print the figures as JSON.")
    var json = false

    func run() throws {
        let set: LabelledSet
        do {
            set = try LabelledSet.load(csv: labels)
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
        let (_, pipeline) = try modelOptions.loadPipeline()
        let scores = Evaluation.run(pipeline, on: set) { done, total in
            if done % 50 == 0 || done == total { StandardError.print("evaluated \(done)/\(total)") }
        }
        print(json ? EvaluationReport.json(scores) : EvaluationReport.text(scores))
    }
}
