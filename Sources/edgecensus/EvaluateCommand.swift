import ArgumentParser
import EdgeCensusEvaluation
import EdgeCensusSupport
import EdgeCensusVision
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

    @Option(
        name: .customLong("debug-dump-readings"),
        help: ArgumentHelp(
            "Debug: write each photo's raw classifier evidence (log-odds, age distribution, quality) as JSON lines to this file.",
            valueName: "file.jsonl"))
    var dumpReadings: String?

    func run() throws {
        let set: LabelledSet
        do {
            set = try LabelledSet.load(csv: labels)
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
        let (_, pipeline) = try modelOptions.loadPipeline()
        var dump: [String] = []
        let scores = Evaluation.run(
            pipeline, on: set,
            progress: { done, total in
                if done % 50 == 0 || done == total { StandardError.print("evaluated \(done)/\(total)") }
            },
            observe: { face, detail in
                guard dumpReadings != nil else { return }
                let observation = detail?.observation
                var row: [String: JSONValue] = [
                    "file": JSONValue((face.path as NSString).lastPathComponent), "dataset": JSONValue(face.dataset),
                    "gender": JSONValue(face.gender.rawValue), "age_min": JSONValue(face.ageRange.lowerBound),
                    "age_max": JSONValue(face.ageRange.upperBound), "age": JSONValue(face.exactAge),
                ]
                if let evidence = observation?.evidence {
                    row["male_log_odds"] = JSONValue(evidence.genderLogOdds)
                    row["gender_temperature"] = JSONValue(pipeline.genderClassifier.spec.temperature)
                    row["age_temperature"] = JSONValue(pipeline.ageClassifier.spec.temperature)
                    row["age_distribution"] = JSONValue(evidence.ageDistribution)
                    row["width"] = JSONValue(evidence.quality.width)
                    row["turn"] = JSONValue(evidence.quality.turn)
                    row["sharpness"] = JSONValue(evidence.quality.sharpness)
                    row["eye_span"] = JSONValue(evidence.quality.eyeSpan)
                    row["detection_confidence"] = JSONValue(observation?.detectionConfidence)
                    row["age_years"] = JSONValue(observation?.age)
                    row["landmarks"] = JSONValue(detail?.landmarks.map { $0.map { [$0.x, $0.y] } })
                    row["detector_landmarks"] = JSONValue(detail?.detectorLandmarks.map { $0.map { [$0.x, $0.y] } })
                    row["box"] = JSONValue(observation.map { [$0.box.x, $0.box.y, $0.box.width, $0.box.height] })
                    // Each net's own reading, for choosing how a set combines them (Tests/Tuning).
                    row["nets"] = .array(
                        zip(pipeline.classifiers, evidence.readings).map { classifier, reading -> JSONValue in
                            var net: [String: JSONValue] = ["model": JSONValue(classifier.spec.model)]
                            if let gender = reading.gender,
                                let labels = try? ClassifierReading.validateGender(classifier.spec, role: "")
                            {
                                net["male_log_odds"] = JSONValue(ClassifierReading.maleLogOdds(gender, labels: labels))
                            }
                            if let years = reading.ageYears { net["age_years"] = JSONValue(years) }
                            if let probabilities = reading.ageProbabilities {
                                net["age_probabilities"] = JSONValue(probabilities)
                            }
                            return .object(net)
                        })
                }
                dump.append(JSONText.line(.object(row)))
            })
        if let dumpReadings {
            try (dump.joined(separator: "\n") + "\n").write(toFile: dumpReadings, atomically: true, encoding: .utf8)
        }
        print(
            json
                ? EvaluationReport.json(scores, pipeline: pipeline.summary)
                : EvaluationReport.text(scores, pipeline: pipeline.summary))
    }
}
