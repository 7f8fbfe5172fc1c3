/// How good a view of a face one frame gives: the face's size, how frontal it is
/// and how sharp. Measured per face, kept only as these three numbers.
public struct FaceQuality: Sendable, Equatable {
    /// The face's width in the frame, in pixels (the detector's box).
    public var width: Double
    /// How far the nose sits from the middle of the eyes, along the eye line, in
    /// eye distances: 0 for a frontal face, growing as the head turns. Nil without landmarks.
    public var turn: Double?
    /// Variance of the Laplacian of the aligned chip's grey levels: low for a blurred,
    /// out-of-focus or heavily compressed face.
    public var sharpness: Double
    /// The distance between the eye centres, in face widths (the detector's box):
    /// far from its usual value when the landmarks missed the face. Nil without landmarks.
    public var eyeSpan: Double?

    public init(width: Double, turn: Double?, sharpness: Double, eyeSpan: Double? = nil) {
        self.width = width
        self.turn = turn
        self.sharpness = sharpness
        self.eyeSpan = eyeSpan
    }

    /// The eye-centre distance from dlib's five landmarks, in pixels.
    public static func eyeDistance(landmarks: [Point]) -> Double? {
        guard landmarks.count == 5 else { return nil }
        let dx = (landmarks[2].x + landmarks[3].x - landmarks[0].x - landmarks[1].x) / 2
        let dy = (landmarks[2].y + landmarks[3].y - landmarks[0].y - landmarks[1].y) / 2
        return (dx * dx + dy * dy).squareRoot()
    }

    /// The turn measure from dlib's five landmarks (right eye outer and inner, left
    /// eye outer and inner, nose).
    public static func turn(landmarks: [Point]) -> Double? {
        guard landmarks.count == 5 else { return nil }
        let right = Point(x: (landmarks[0].x + landmarks[1].x) / 2, y: (landmarks[0].y + landmarks[1].y) / 2)
        let left = Point(x: (landmarks[2].x + landmarks[3].x) / 2, y: (landmarks[2].y + landmarks[3].y) / 2)
        let dx = left.x - right.x, dy = left.y - right.y
        let distance = (dx * dx + dy * dy).squareRoot()
        guard distance > 0 else { return nil }
        let middle = Point(x: (right.x + left.x) / 2, y: (right.y + left.y) / 2)
        let along = ((landmarks[4].x - middle.x) * dx + (landmarks[4].y - middle.y) * dy) / distance
        return abs(along) / distance
    }
}

/// What the classifiers said of one face, before any threshold: the evidence that
/// votes across frames are made of. It stays in the process, like the crops.
public struct FaceEvidence: Sendable, Equatable {
    /// Calibrated log-odds that the face is male (negative: female).
    public var genderLogOdds: Double
    /// Calibrated probabilities over the age net's classes (its `age_values`, or its groups).
    public var ageDistribution: [Double]
    /// The same, summed per Adience group (eight values).
    public var ageGroupProbabilities: [Double]
    public var quality: FaceQuality
    /// Each net's own reading, before calibration and fusion, in the pipeline's
    /// `classifiers` order (what `evaluate --debug-dump-readings` writes, for tuning).
    public var readings: [NetReading]

    public init(
        genderLogOdds: Double, ageDistribution: [Double], ageGroupProbabilities: [Double], quality: FaceQuality,
        readings: [NetReading] = []
    ) {
        self.genderLogOdds = genderLogOdds
        self.ageDistribution = ageDistribution
        self.ageGroupProbabilities = ageGroupProbabilities
        self.quality = quality
        self.readings = readings
    }
}
