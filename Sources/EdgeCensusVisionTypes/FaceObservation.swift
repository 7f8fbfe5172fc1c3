import Foundation

/// Where the landmark predictor looks for a face, relative to the detector's box.
/// The SSD's box is taller than wide and sits high on the face, while dlib's
/// landmark model was trained on the square boxes of dlib's HOG detector: the
/// predictor is given a square of `scale` times the box width, its centre moved
/// down by `shift` box heights. (Measured on FairFace photos where both detectors
/// find the face: the HOG box is 1.07 SSD widths wide and 0.06 SSD heights lower;
/// `evaluate` scores 1.1 and 0 as well or better.)
public struct AlignmentSettings: Sendable, Equatable {
    public var scale: Double = 1.1
    public var shift: Double = 0.0
    public init() {}
}

/// How sure the calibrated classifiers must be before an answer is reported:
/// below `gender` a face's gender is "unknown", below `age` its age group.
/// Chosen by cross-validation on the development faces (README, "Unknown").
public struct DecisionThresholds: Sendable, Equatable {
    public static let defaultGender = 0.65
    public static let defaultAge = 0.18
    /// `classification.gender_min_confidence`
    public var gender = DecisionThresholds.defaultGender
    /// `classification.age_min_confidence`
    public var age = DecisionThresholds.defaultAge
    public init() {}
    public init(gender: Double, age: Double) {
        self.gender = gender
        self.age = age
    }
}

/// The pipeline's tunable behaviour.
public struct PipelineSettings: Sendable, Equatable {
    public var detection = DetectionSettings()
    public var alignment = AlignmentSettings()
    public var decision = DecisionThresholds()
    /// Classify each face and its mirror image and average the two ...
    public var flipAverage = true
    /// A model set's detector that gives landmarks good enough to align on: where they
    /// sit in dlib's unit face (`model-set.json`'s `detector.landmark_template`). Nil:
    /// the shape predictor finds the landmarks.
    public var detectorLandmarkTemplate: [Point]?
    /// ... but only when the first pass's calibrated confidence (the likelier gender's
    /// probability; the age group's probability mass) is below this: a sure first
    /// answer is kept as it is. 1 mirrors every face.
    public var mirrorBelow = 1.0
    public init() {}
}

/// One face found in an image, with what the classifiers say of it. Only this
/// summary leaves the pipeline: the crops it was computed from are discarded.
/// An answer whose calibrated confidence is below its threshold is unknown (nil);
/// the likelier answer and its confidence are kept for `detect` and `evaluate`.
public struct FaceObservation: Sendable, Equatable, Codable {
    public var box: PixelBox
    public var detectionConfidence: Double
    /// The likelier gender, reported or not.
    public var likelyGender: Gender
    /// The calibrated probability that `likelyGender` is right.
    public var genderConfidence: Double
    public var genderDecided: Bool
    /// The expected age, in years.
    public var age: Double
    /// The group the expected age falls in, reported or not.
    public var likelyAgeGroup: AgeGroup
    /// The calibrated probability that the age lies in `likelyAgeGroup`.
    public var ageConfidence: Double
    public var ageDecided: Bool
    /// What the votes across frames are made of; never encoded, never leaves the process.
    public var evidence: FaceEvidence?

    /// The gender, or nil (unknown) when the classifier was not sure enough.
    public var gender: Gender? { genderDecided ? likelyGender : nil }
    /// The age group, or nil (unknown) when the classifier was not sure enough.
    public var ageGroup: AgeGroup? { ageDecided ? likelyAgeGroup : nil }

    enum CodingKeys: String, CodingKey {
        case box, detectionConfidence = "detection_confidence", gender, genderConfidence = "gender_confidence"
        case likelyGender = "likely_gender", age, ageGroup = "age_group", likelyAgeGroup = "likely_age_group"
        case ageConfidence = "age_confidence"
    }

    /// `gender` and `age_group` say "unknown" below the thresholds; `likely_gender` and
    /// `likely_age_group` then give the answer that was not sure enough.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(box, forKey: .box)
        try container.encode(Self.rounded(detectionConfidence, 3), forKey: .detectionConfidence)
        try container.encode(gender?.rawValue ?? "unknown", forKey: .gender)
        if !genderDecided { try container.encode(likelyGender, forKey: .likelyGender) }
        try container.encode(Self.rounded(genderConfidence, 3), forKey: .genderConfidence)
        try container.encode(Self.rounded(age, 1), forKey: .age)
        try container.encode(ageGroup?.label ?? "unknown", forKey: .ageGroup)
        if !ageDecided { try container.encode(likelyAgeGroup.label, forKey: .likelyAgeGroup) }
        try container.encode(Self.rounded(ageConfidence, 3), forKey: .ageConfidence)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        box = try container.decode(PixelBox.self, forKey: .box)
        detectionConfidence = try container.decode(Double.self, forKey: .detectionConfidence)
        (likelyGender, genderDecided) = try Self.decodeAnswer(
            container, .gender, .likelyGender, as: "gender", Gender.init(rawValue:))
        genderConfidence = try container.decode(Double.self, forKey: .genderConfidence)
        age = try container.decode(Double.self, forKey: .age)
        (likelyAgeGroup, ageDecided) = try Self.decodeAnswer(
            container, .ageGroup, .likelyAgeGroup, as: "age group", AgeGroup.init(label:))
        ageConfidence = try container.decode(Double.self, forKey: .ageConfidence)
    }

    /// An answer and whether it was decided: the key's value, or, when that is
    /// "unknown", the likelier answer under `likelyKey`.
    private static func decodeAnswer<Answer>(
        _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys,
        _ likelyKey: CodingKeys, as what: String,
        _ parse: (String) -> Answer?
    ) throws -> (Answer, Bool) {
        let text = try container.decode(String.self, forKey: key)
        let decided = text != "unknown"
        let likely = decided ? text : try container.decode(String.self, forKey: likelyKey)
        guard let answer = parse(likely) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "unknown \(what) \(likely)")
        }
        return (answer, decided)
    }

    public init(
        box: PixelBox, detectionConfidence: Double, gender: Gender, genderConfidence: Double,
        age: Double, ageGroup: AgeGroup, ageConfidence: Double,
        genderDecided: Bool = true, ageDecided: Bool = true
    ) {
        self.box = box
        self.detectionConfidence = detectionConfidence
        self.likelyGender = gender
        self.genderConfidence = genderConfidence
        self.genderDecided = genderDecided
        self.age = age
        self.likelyAgeGroup = ageGroup
        self.ageConfidence = ageConfidence
        self.ageDecided = ageDecided
    }

    private static func rounded(_ value: Double, _ places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (value * factor).rounded() / factor
    }
}
