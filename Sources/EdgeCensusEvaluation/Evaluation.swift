import EdgeCensusSupport
public import EdgeCensusVision
import Foundation

/// Runs the pipeline over a labelled set and scores it per dataset.
public enum Evaluation {
    /// Scores every labelled photo on its largest face (by area inside the image).
    /// `progress` is told after each photo (done, total).
    public static func run(
        _ pipeline: FacePipeline, on set: LabelledSet,
        progress: (Int, Int) -> Void = { _, _ in },
        observe: (LabelledFace, FaceAnalysis?) -> Void = { _, _ in }
    ) -> [DatasetScore] {
        var scores: [String: DatasetScore] = [:]
        var order: [String] = []
        for (index, face) in set.faces.enumerated() {
            if scores[face.dataset] == nil {
                scores[face.dataset] = DatasetScore(name: face.dataset)
                order.append(face.dataset)
            }
            do {
                let image = try Image.load(contentsOf: face.path)
                var timings = StageTimings()
                let analyses = try pipeline.analyseInDetail(image, timings: &timings)
                let detail = analyses.max {
                    $0.observation.box.width * $0.observation.box.height < $1.observation.box.width
                        * $1.observation.box.height
                }
                let largest = detail?.observation
                scores[face.dataset]?.add(
                    face, prediction: largest,
                    uncalibrated: largest.flatMap {
                        uncalibratedConfidences($0, pipeline: pipeline)
                    })
                observe(face, detail)
            } catch {
                scores[face.dataset]?.addUnreadable(face)
            }
            progress(index + 1, set.faces.count)
        }
        return order.compactMap { scores[$0] }
    }
}

/// The confidences a face's answers had before temperature scaling. A gender fused
/// from several nets, and an age in years, have no uncalibrated form: their own.
func uncalibratedConfidences(_ face: FaceObservation, pipeline: FacePipeline) -> (gender: Double, age: Double)? {
    guard let evidence = face.evidence else { return nil }
    let genderSpec = pipeline.genderClassifier.spec, ageSpec = pipeline.ageClassifier.spec
    let logOdds = abs(evidence.genderLogOdds) * (genderSpec.genderWeight == nil ? genderSpec.temperature : 1)
    let gender = 1 / (1 + exp(-logOdds))
    guard !evidence.ageDistribution.isEmpty else { return (gender, face.ageConfidence) }
    let raw = ClassifierReading.calibrated(evidence.ageDistribution, temperature: 1 / ageSpec.temperature)
    return (gender, ClassifierReading.age(from: raw, spec: ageSpec).confidence)
}

/// Prints scores as the text report `edgecensus evaluate` shows.
public enum EvaluationReport {
    /// `pipeline`: what was measured (`FacePipeline.summary`), the first line.
    public static func text(_ scores: [DatasetScore], pipeline: String? = nil) -> String {
        var lines: [String] = pipeline.map { ["models: \($0)"] } ?? []
        for score in scores {
            lines.append("\(score.name): \(score.images) photos")
            lines.append(
                "  face detected          \(percent(score.detectionRate)) (\(score.detected)/\(score.images))"
                    + (score.unreadable > 0 ? ", \(score.unreadable) unreadable" : ""))
            lines.append("  gender accuracy        \(percent(score.genderAccuracy))")
            if score.exactAgeFaces > 0 {
                lines.append(
                    "  age MAE                \(score.ageMeanAbsoluteError.map { String(format: "%.2f y", $0) } ?? "–")"
                )
                lines.append("  Adience group exact    \(percent(score.groupExactAccuracy))")
                lines.append("  Adience group one-off  \(percent(score.groupOneOffAccuracy))")
            }
            if score.rangeFaces > 0 {
                lines.append(
                    "  age in labelled range  \(percent(score.inRangeShare)) (\(score.inRange)/\(score.rangeFaces))")
            }
            lines.append(
                "  gender, decided        \(percent(score.decidedGenderAccuracy)) right, \(percent(score.genderCoverage)) of faces decided"
            )
            lines.append("  gender by coverage     " + coverageRow(score.gender))
            lines.append(
                "  gender calibration     ECE \(number(score.genderUncalibrated.expectedCalibrationError(lowest: 0.5))) uncalibrated, \(number(score.gender.expectedCalibrationError(lowest: 0.5))) calibrated"
            )
            let ageScore = score.exactAgeFaces > 0 ? score.ageGroup : score.ageInRange
            let ageWhat = score.exactAgeFaces > 0 ? "group exact" : "in range"
            lines.append(
                "  age, decided           \(percent(score.decidedAgeAccuracy)) \(ageWhat), \(percent(score.ageCoverage)) of faces decided"
            )
            lines.append("  age by coverage        " + coverageRow(ageScore))
            if score.exactAgeFaces > 0 {
                lines.append(
                    "  age group calibration  ECE \(number(score.ageGroupUncalibrated.expectedCalibrationError())) uncalibrated, \(number(score.ageGroup.expectedCalibrationError())) calibrated"
                )
            }
            lines.append("  gender confusion (rows: truth, columns: predicted)")
            lines.append("              male  female")
            for truth in [Gender.male, .female] {
                let row = score.confusion[truth] ?? [:]
                lines.append(
                    "    " + truth.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                        + String(format: "%6d  %6d", row[.male] ?? 0, row[.female] ?? 0))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object per dataset, figures as fractions (null when undefined).
    public static func json(_ scores: [DatasetScore], pipeline: String? = nil) -> String {
        let objects: [JSONValue] = scores.map { score in
            var confusion: [String: [String: Int]] = [:]
            for truth in Gender.allCases {
                confusion[truth.rawValue] = Dictionary(
                    uniqueKeysWithValues: Gender.allCases.map {
                        ($0.rawValue, score.confusion[truth]?[$0] ?? 0)
                    })
            }
            return [
                "pipeline": JSONValue(pipeline),
                "dataset": JSONValue(score.name), "images": JSONValue(score.images),
                "detected": JSONValue(score.detected), "unreadable": JSONValue(score.unreadable),
                "detection_rate": JSONValue(score.detectionRate), "gender_accuracy": JSONValue(score.genderAccuracy),
                "age_mae": JSONValue(score.ageMeanAbsoluteError),
                "adience_exact": JSONValue(score.groupExactAccuracy),
                "adience_one_off": JSONValue(score.groupOneOffAccuracy),
                "age_in_range": JSONValue(score.inRangeShare), "gender_confusion": JSONValue(confusion),
                "gender_decided_accuracy": JSONValue(score.decidedGenderAccuracy),
                "gender_coverage": JSONValue(score.genderCoverage),
                "age_decided_accuracy": JSONValue(score.decidedAgeAccuracy),
                "age_coverage": JSONValue(score.ageCoverage),
                "gender_accuracy_at_coverage": coverageObject(score.gender),
                "age_accuracy_at_coverage": coverageObject(score.exactAgeFaces > 0 ? score.ageGroup : score.ageInRange),
                "gender_ece": JSONValue(score.gender.expectedCalibrationError(lowest: 0.5)),
                "gender_ece_uncalibrated": JSONValue(score.genderUncalibrated.expectedCalibrationError(lowest: 0.5)),
                "age_group_ece": JSONValue(score.ageGroup.expectedCalibrationError()),
                "age_group_ece_uncalibrated": JSONValue(score.ageGroupUncalibrated.expectedCalibrationError()),
            ]
        }
        return JSONText.pretty(.array(objects))
    }

    static let coverages = [1.0, 0.9, 0.8, 0.7]

    static func coverageObject(_ score: SelectiveScore) -> JSONValue {
        JSONValue(
            Dictionary(
                uniqueKeysWithValues: coverages.map { (String(Int($0 * 100)), score.accuracy(atCoverage: $0)) }))
    }

    /// "100 %: 80.7 %  90 %: 83.1 %  ..." — accuracy of the most confident share.
    static func coverageRow(_ score: SelectiveScore) -> String {
        coverages.map { "\(Int($0 * 100)) %: \(percent(score.accuracy(atCoverage: $0)))" }.joined(separator: "  ")
    }

    private static func number(_ value: Double?) -> String {
        value.map { String(format: "%.3f", $0) } ?? "–"
    }

    private static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f %%", $0 * 100) } ?? "–"
    }
}
