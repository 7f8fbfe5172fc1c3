public import EdgeCensusVision

/// Accuracy figures for one dataset, accumulated face by face. Each photo is
/// scored on its largest detected face; the figures other than the detection
/// rate are over the photos where a face was found.
public struct DatasetScore: Sendable {
    public let name: String
    public private(set) var images = 0
    public private(set) var detected = 0
    public private(set) var unreadable = 0
    public private(set) var genderCorrect = 0
    /// confusion[truth][predicted]
    public private(set) var confusion: [Gender: [Gender: Int]] = [:]
    public private(set) var exactAgeFaces = 0
    public private(set) var absoluteErrorSum = 0.0
    public private(set) var groupExact = 0
    public private(set) var groupOneOff = 0
    public private(set) var rangeFaces = 0
    public private(set) var inRange = 0

    public init(name: String) { self.name = name }

    public mutating func add(_ label: LabelledFace, prediction: FaceObservation?) {
        images += 1
        guard let prediction else { return }
        detected += 1
        if prediction.gender == label.gender { genderCorrect += 1 }
        confusion[label.gender, default: [:]][prediction.gender, default: 0] += 1
        if let age = label.exactAge {
            exactAgeFaces += 1
            absoluteErrorSum += abs(prediction.age - age)
            let truth = AgeGroup(age: age)
            if truth == prediction.ageGroup { groupExact += 1 }
            if abs(truth.rawValue - prediction.ageGroup.rawValue) <= 1 { groupOneOff += 1 }
        } else {
            rangeFaces += 1
            // Ranges are of whole years: the age counts in the range when it rounds into
            // it (as the reference package's whole-year ages were scored): 9.4 is in 3-9, 9.6 is not.
            if label.ageRange.contains(Int(prediction.age.rounded())) { inRange += 1 }
        }
    }

    public mutating func addUnreadable(_ label: LabelledFace) {
        images += 1
        unreadable += 1
    }

    public var detectionRate: Double? { ratio(detected, images) }
    public var genderAccuracy: Double? { ratio(genderCorrect, detected) }
    public var ageMeanAbsoluteError: Double? { exactAgeFaces > 0 ? absoluteErrorSum / Double(exactAgeFaces) : nil }
    public var groupExactAccuracy: Double? { ratio(groupExact, exactAgeFaces) }
    public var groupOneOffAccuracy: Double? { ratio(groupOneOff, exactAgeFaces) }
    public var inRangeShare: Double? { ratio(inRange, rangeFaces) }

    private func ratio(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
}
