public import EdgeCensusVision
import Foundation

/// Runs the pipeline over a labelled set and scores it per dataset.
public enum Evaluation {
    /// Scores every labelled photo on its largest face (by area inside the image).
    /// `progress` is told after each photo (done, total).
    public static func run(_ pipeline: FacePipeline, on set: LabelledSet,
                           progress: (Int, Int) -> Void = { _, _ in }) -> [DatasetScore] {
        var scores: [String: DatasetScore] = [:]
        var order: [String] = []
        for (index, face) in set.faces.enumerated() {
            if scores[face.dataset] == nil {
                scores[face.dataset] = DatasetScore(name: face.dataset)
                order.append(face.dataset)
            }
            do {
                let image = try Image.load(contentsOf: face.path)
                let observations = try pipeline.analyse(image)
                let largest = observations.max { $0.box.width * $0.box.height < $1.box.width * $1.box.height }
                scores[face.dataset]?.add(face, prediction: largest)
            } catch {
                scores[face.dataset]?.addUnreadable(face)
            }
            progress(index + 1, set.faces.count)
        }
        return order.compactMap { scores[$0] }
    }
}

/// Prints scores as the text report `edgecensus evaluate` shows.
public enum EvaluationReport {
    public static func text(_ scores: [DatasetScore]) -> String {
        var lines: [String] = []
        for score in scores {
            lines.append("\(score.name): \(score.images) photos")
            lines.append("  face detected          \(percent(score.detectionRate)) (\(score.detected)/\(score.images))"
                         + (score.unreadable > 0 ? ", \(score.unreadable) unreadable" : ""))
            lines.append("  gender accuracy        \(percent(score.genderAccuracy))")
            if score.exactAgeFaces > 0 {
                lines.append("  age MAE                \(score.ageMeanAbsoluteError.map { String(format: "%.2f y", $0) } ?? "–")")
                lines.append("  Adience group exact    \(percent(score.groupExactAccuracy))")
                lines.append("  Adience group one-off  \(percent(score.groupOneOffAccuracy))")
            }
            if score.rangeFaces > 0 {
                lines.append("  age in labelled range  \(percent(score.inRangeShare)) (\(score.inRange)/\(score.rangeFaces))")
            }
            lines.append("  gender confusion (rows: truth, columns: predicted)")
            lines.append("              male  female")
            for truth in [Gender.male, .female] {
                let row = score.confusion[truth] ?? [:]
                lines.append("    " + truth.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                             + String(format: "%6d  %6d", row[.male] ?? 0, row[.female] ?? 0))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object per dataset, figures as fractions (null when undefined).
    public static func json(_ scores: [DatasetScore]) -> String {
        let objects: [[String: Any]] = scores.map { score in
            var confusion: [String: [String: Int]] = [:]
            for truth in Gender.allCases {
                confusion[truth.rawValue] = Dictionary(uniqueKeysWithValues: Gender.allCases.map {
                    ($0.rawValue, score.confusion[truth]?[$0] ?? 0)
                })
            }
            return [
                "dataset": score.name, "images": score.images, "detected": score.detected,
                "unreadable": score.unreadable,
                "detection_rate": score.detectionRate ?? NSNull(), "gender_accuracy": score.genderAccuracy ?? NSNull(),
                "age_mae": score.ageMeanAbsoluteError ?? NSNull(),
                "adience_exact": score.groupExactAccuracy ?? NSNull(),
                "adience_one_off": score.groupOneOffAccuracy ?? NSNull(),
                "age_in_range": score.inRangeShare ?? NSNull(), "gender_confusion": confusion,
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f %%", $0 * 100) } ?? "–"
    }
}
