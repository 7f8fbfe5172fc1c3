import ArgumentParser
import EdgeCensusEvaluation
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
                var row: [String: Any] = [
                    "file": (face.path as NSString).lastPathComponent, "dataset": face.dataset,
                    "gender": face.gender.rawValue, "age_min": face.ageRange.lowerBound,
                    "age_max": face.ageRange.upperBound, "age": face.exactAge ?? NSNull(),
                ]
                if let evidence = observation?.evidence {
                    row["male_log_odds"] = evidence.genderLogOdds
                    row["gender_temperature"] = pipeline.genderClassifier.spec.temperature
                    row["age_temperature"] = pipeline.ageClassifier.spec.temperature
                    row["age_distribution"] = evidence.ageDistribution
                    row["width"] = evidence.quality.width
                    row["turn"] = evidence.quality.turn ?? NSNull()
                    row["sharpness"] = evidence.quality.sharpness
                    row["eye_span"] = evidence.quality.eyeSpan ?? NSNull()
                    row["detection_confidence"] = observation?.detectionConfidence ?? NSNull()
                    row["age_years"] = observation?.age ?? NSNull()
                    row["landmarks"] = detail?.landmarks.map { $0.map { [$0.x, $0.y] } } ?? NSNull()
                    row["detector_landmarks"] = detail?.detectorLandmarks.map { $0.map { [$0.x, $0.y] } } ?? NSNull()
                    row["box"] = observation.map { [$0.box.x, $0.box.y, $0.box.width, $0.box.height] } ?? NSNull()
                    // Each net's own reading, for choosing how a set combines them (Tests/Tuning).
                    row["nets"] = zip(pipeline.classifiers, evidence.readings).map {
                        classifier, reading -> [String: Any] in
                        var net: [String: Any] = ["model": classifier.spec.model]
                        if let gender = reading.gender,
                            let labels = try? ClassifierReading.validateGender(classifier.spec, role: "")
                        {
                            net["male_log_odds"] = ClassifierReading.maleLogOdds(gender, labels: labels)
                        }
                        if let years = reading.ageYears { net["age_years"] = years }
                        if let probabilities = reading.ageProbabilities { net["age_probabilities"] = probabilities }
                        return net
                    }
                }
                if let data = try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]) {
                    dump.append(String(decoding: data, as: UTF8.self))
                }
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
