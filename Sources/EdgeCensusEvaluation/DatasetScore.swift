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
    /// Gender answers with their calibrated confidence (all detected faces, decided or not).
    public private(set) var gender = SelectiveScore()
    /// The same answers with the net's own, uncalibrated confidence.
    public private(set) var genderUncalibrated = SelectiveScore()
    /// Adience group answers (rows with an exact age), calibrated and not.
    public private(set) var ageGroup = SelectiveScore()
    public private(set) var ageGroupUncalibrated = SelectiveScore()
    /// Whether the age fell in the labelled range (rows with a range), by age confidence.
    public private(set) var ageInRange = SelectiveScore()
    /// Faces whose gender / age group was reported (at or above the thresholds), and of those the right ones.
    public private(set) var genderDecided = 0
    public private(set) var genderDecidedCorrect = 0
    public private(set) var ageDecided = 0
    public private(set) var ageDecidedCorrect = 0

    public init(name: String) { self.name = name }

    /// `uncalibrated`: the gender and age confidences before temperature scaling.
    public mutating func add(
        _ label: LabelledFace, prediction: FaceObservation?,
        uncalibrated: (gender: Double, age: Double)? = nil
    ) {
        images += 1
        guard let prediction else { return }
        detected += 1
        let genderRight = prediction.likelyGender == label.gender
        if genderRight { genderCorrect += 1 }
        confusion[label.gender, default: [:]][prediction.likelyGender, default: 0] += 1
        gender.add(confidence: prediction.genderConfidence, right: genderRight)
        genderUncalibrated.add(confidence: uncalibrated?.gender ?? prediction.genderConfidence, right: genderRight)
        if prediction.genderDecided {
            genderDecided += 1
            if genderRight { genderDecidedCorrect += 1 }
        }
        let ageRight: Bool
        if let age = label.exactAge {
            exactAgeFaces += 1
            absoluteErrorSum += abs(prediction.age - age)
            let truth = AgeGroup(age: age)
            ageRight = truth == prediction.likelyAgeGroup
            if ageRight { groupExact += 1 }
            if abs(truth.rawValue - prediction.likelyAgeGroup.rawValue) <= 1 { groupOneOff += 1 }
            ageGroup.add(confidence: prediction.ageConfidence, right: ageRight)
            ageGroupUncalibrated.add(confidence: uncalibrated?.age ?? prediction.ageConfidence, right: ageRight)
        } else {
            rangeFaces += 1
            // Ranges are of whole years: the age counts in the range when it rounds into
            // it (as the reference package's whole-year ages were scored): 9.4 is in 3-9, 9.6 is not.
            ageRight = label.ageRange.contains(Int(prediction.age.rounded()))
            if ageRight { inRange += 1 }
            ageInRange.add(confidence: prediction.ageConfidence, right: ageRight)
        }
        if prediction.ageDecided {
            ageDecided += 1
            if ageRight { ageDecidedCorrect += 1 }
        }
    }

    /// Gender accuracy among the faces whose gender was reported, and their share.
    public var decidedGenderAccuracy: Double? { ratio(genderDecidedCorrect, genderDecided) }
    public var genderCoverage: Double? { ratio(genderDecided, detected) }
    /// Age accuracy (group exact, or in the labelled range) among the faces whose age was reported, and their share.
    public var decidedAgeAccuracy: Double? { ratio(ageDecidedCorrect, ageDecided) }
    public var ageCoverage: Double? { ratio(ageDecided, detected) }

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
