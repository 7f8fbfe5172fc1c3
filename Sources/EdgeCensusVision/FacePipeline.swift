import Foundation
import COpenCV

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
        (likelyGender, genderDecided) = try Self.decodeAnswer(container, .gender, .likelyGender, as: "gender", Gender.init(rawValue:))
        genderConfidence = try container.decode(Double.self, forKey: .genderConfidence)
        age = try container.decode(Double.self, forKey: .age)
        (likelyAgeGroup, ageDecided) = try Self.decodeAnswer(container, .ageGroup, .likelyAgeGroup, as: "age group", AgeGroup.init(label:))
        ageConfidence = try container.decode(Double.self, forKey: .ageConfidence)
    }

    /// An answer and whether it was decided: the key's value, or, when that is
    /// "unknown", the likelier answer under `likelyKey`.
    private static func decodeAnswer<Answer>(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys,
                                             _ likelyKey: CodingKeys, as what: String,
                                             _ parse: (String) -> Answer?) throws -> (Answer, Bool) {
        let text = try container.decode(String.self, forKey: key)
        let decided = text != "unknown"
        let likely = decided ? text : try container.decode(String.self, forKey: likelyKey)
        guard let answer = parse(likely) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "unknown \(what) \(likely)")
        }
        return (answer, decided)
    }

    public init(box: PixelBox, detectionConfidence: Double, gender: Gender, genderConfidence: Double,
                age: Double, ageGroup: AgeGroup, ageConfidence: Double,
                genderDecided: Bool = true, ageDecided: Bool = true) {
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

/// A face's observation and the landmarks it was aligned on (nil for box crops).
public struct FaceAnalysis: Sendable {
    public var observation: FaceObservation
    public var landmarks: [Point]?
}

/// Time spent in each stage of one `analyse` call, in seconds.
public struct StageTimings: Sendable {
    public var detect = 0.0
    public var align = 0.0
    public var classify = 0.0
    public var faces = 0
    public init() {}
}

/// decode → detect → (align) → crop → classify gender and age.
public final class FacePipeline {
    public let detector: FaceDetector
    public let landmarks: ShapePredictor?
    public let genderClassifier: FaceClassifier
    public let ageClassifier: FaceClassifier
    public let settings: PipelineSettings
    private let genderLabels: [Gender]

    public init(detector: FaceDetector, landmarks: ShapePredictor?, genderClassifier: FaceClassifier,
                ageClassifier: FaceClassifier, settings: PipelineSettings) throws(VisionError) {
        self.detector = detector
        self.landmarks = landmarks
        self.genderClassifier = genderClassifier
        self.ageClassifier = ageClassifier
        self.settings = settings
        genderLabels = try ClassifierReading.validateGender(genderClassifier.spec, role: "classification.gender")
        try ClassifierReading.validateAge(ageClassifier.spec, role: "classification.age")
        for (spec, role) in [(genderClassifier.spec, "gender"), (ageClassifier.spec, "age")] {
            if case .aligned = spec.crop, landmarks == nil {
                throw .invalidSpecification(key: "classification.\(role).crop", reason: "aligned crops need the landmark model")
            }
        }
    }

    /// Seconds spent in the three nets' forward passes so far (the rest of the
    /// pipeline's time is its own: decoding aside, resizing, blobs, landmarks, crops).
    public var forwardSeconds: Double {
        detector.forwardSeconds + genderClassifier.forwardSeconds + ageClassifier.forwardSeconds
    }

    /// Loads every model the configuration names, verifying checksums.
    public static func load(from models: ModelDirectory, gender: ClassifierSpec = .dlibGender,
                            age: ClassifierSpec = .dlibAge, settings: PipelineSettings = PipelineSettings()) throws(VisionError) -> FacePipeline {
        let detector = try FaceDetector.load(from: models, settings: settings.detection)
        var landmarks: ShapePredictor?
        let needsAlignment = [gender, age].contains { if case .aligned = $0.crop { true } else { false } }
        if needsAlignment {
            let path = try models.verifiedFile("dlib-cydral/shape_predictor_5_face_landmarks.dat", role: "face landmark model")
            landmarks = try ShapePredictor(contentsOf: path)
        }
        let pipeline = try FacePipeline(
            detector: detector, landmarks: landmarks,
            genderClassifier: try .load(gender, from: models, role: "classification.gender"),
            ageClassifier: try .load(age, from: models, role: "classification.age"), settings: settings)
        releaseFreedHeapPages()
        return pipeline
    }

    /// Loading parses 30 MB of model files into buffers that are then freed; the
    /// allocator keeps those pages (4 MiB here) unless asked to give them back.
    private static func releaseFreedHeapPages() {
        ec_release_free_heap_pages()
    }

    /// Finds and classifies every face in the image, most confident detection first.
    public func analyse(_ image: Image) throws(VisionError) -> [FaceObservation] {
        var timings = StageTimings()
        return try analyse(image, timings: &timings)
    }

    public func analyse(_ image: Image, timings: inout StageTimings) throws(VisionError) -> [FaceObservation] {
        try analyseInDetail(image, timings: &timings).map(\.observation)
    }

    /// Like `analyse`, keeping each face's landmarks too, for the local `--annotate`
    /// debug picture. Landmarks never leave the process otherwise.
    public func analyseInDetail(_ image: Image, timings: inout StageTimings) throws(VisionError) -> [FaceAnalysis] {
        let found = try detectFaces(in: image, timings: &timings)
        return try found.faces.indices.map { index throws(VisionError) in try classify(index, of: found, timings: &timings) }
    }

    /// The faces one frame holds, found but not yet classified: the agent asks the
    /// tracker which of them need classifying before it spends the time.
    public struct FoundFaces {
        /// The image faces are cut from (the frame, or the frame framed by a border).
        fileprivate let source: Image
        fileprivate let offset: Point
        fileprivate let detected: [DetectedFace]
        /// Each face's box in the frame's own coordinates, most confident first.
        public let faces: [PixelBox]
    }

    /// Step one of `analyse`: finds the faces.
    public func detectFaces(in image: Image, timings: inout StageTimings) throws(VisionError) -> FoundFaces {
        let start = ContinuousClock.now
        let (source, offset, faces) = try findFaces(in: image)
        timings.detect += (ContinuousClock.now - start).seconds
        let boxes = faces.map { face in
            Box(x: face.box.x - offset.x, y: face.box.y - offset.y, width: face.box.width, height: face.box.height)
                .clipped(width: Double(image.width), height: Double(image.height)).pixelBox
        }
        return FoundFaces(source: source, offset: offset, detected: faces, faces: boxes)
    }

    /// Step two of `analyse`: classifies one of the faces found.
    public func classify(_ index: Int, of found: FoundFaces, timings: inout StageTimings) throws(VisionError) -> FaceAnalysis {
        timings.faces += 1
        var analysis = try classify(found.detected[index], in: found.source, timings: &timings)
        // Report in the frame's own coordinates.
        analysis.observation.box = found.faces[index]
        analysis.landmarks = analysis.landmarks?.map { Point(x: $0.x - found.offset.x, y: $0.y - found.offset.y) }
        return analysis
    }

    /// Detects faces, on the photo and (when `detection.border` > 0) on the photo
    /// framed by a border. Where both passes find a face, the plain pass's box is
    /// kept (it saw the face at a higher resolution) unless it touches the photo's
    /// edge, where it is likely a part of a face that fills the frame: then the
    /// framed pass's box, which can extend past the edge, is kept. Faces only one
    /// pass found are kept too. Returns the image to cut faces from, its offset from
    /// the photo, and the faces in that image's coordinates.
    private func findFaces(in image: Image) throws(VisionError) -> (Image, Point, [DetectedFace]) {
        let plain = try detector.detect(in: image)
        let fraction = settings.detection.border
        guard fraction > 0 else { return (image, Point(x: 0, y: 0), plain) }
        let padX = Int(Double(image.width) * fraction), padY = Int(Double(image.height) * fraction)
        let framed = try image.padded(top: padY, bottom: padY, left: padX, right: padX, replicatingEdges: true)
        let offset = Point(x: Double(padX), y: Double(padY))
        let photo = Box(x: offset.x, y: offset.y, width: Double(image.width), height: Double(image.height))
        // A face found mostly in the border is a reflection of the repeated edge, not in the photo.
        var faces = try detector.detect(in: framed).filter { $0.box.intersection(photo).area >= 0.5 * $0.box.area }
        for face in plain {
            let shifted = DetectedFace(
                box: Box(x: face.box.x + offset.x, y: face.box.y + offset.y, width: face.box.width, height: face.box.height),
                confidence: face.confidence)
            let touchesEdge = face.box.x < 1 || face.box.y < 1 || face.box.x + face.box.width > Double(image.width) - 1
                || face.box.y + face.box.height > Double(image.height) - 1
            if let twin = faces.firstIndex(where: { $0.box.overlapOfSmaller(shifted.box) >= 0.5 }) {
                if !touchesEdge { faces[twin] = shifted }
            } else {
                faces.append(shifted)
            }
        }
        return (framed, offset, faces.sorted { $0.confidence > $1.confidence })
    }

    /// The landmarks the aligned crops use, for one detected face.
    public func landmarks(of face: DetectedFace, in image: Image) -> [Point]? {
        guard let landmarks else { return nil }
        let box = face.box, side = box.width * settings.alignment.scale
        let centre = Point(x: box.centre.x, y: box.centre.y + settings.alignment.shift * box.height)
        return landmarks.landmarks(in: image, box: Box(x: centre.x - side / 2, y: centre.y - side / 2, width: side, height: side))
    }

    private func classify(_ face: DetectedFace, in image: Image, timings: inout StageTimings) throws(VisionError) -> FaceAnalysis {
        var clock = ContinuousClock.now
        let points = landmarks(of: face, in: image)
        timings.align += (ContinuousClock.now - clock).seconds
        clock = ContinuousClock.now
        let genderLabels = self.genderLabels, ageSpec = ageClassifier.spec
        let (genderProbabilities, _) = try probabilities(genderClassifier, face: face, landmarks: points, image: image) { raw in
            ClassifierReading.gender(from: ClassifierReading.calibrated(raw, temperature: self.genderClassifier.spec.temperature),
                                     labels: genderLabels).confidence
        }
        let (ageProbabilities, ageChip) = try probabilities(ageClassifier, face: face, landmarks: points, image: image) { raw in
            let group = ClassifierReading.age(from: raw, spec: ageSpec).group
            return ClassifierReading.groupProbabilities(ClassifierReading.calibrated(raw, temperature: ageSpec.temperature),
                                                        spec: ageSpec)[group.rawValue]
        }
        timings.classify += (ContinuousClock.now - clock).seconds
        let calibratedGender = ClassifierReading.calibrated(genderProbabilities, temperature: genderClassifier.spec.temperature)
        let calibratedAge = ClassifierReading.calibrated(ageProbabilities, temperature: ageClassifier.spec.temperature)
        let gender = ClassifierReading.gender(from: calibratedGender, labels: genderLabels)
        // The age and its group come from the net's own distribution (softening it
        // would move the expected age); the calibrated one says how sure the group is.
        var age = ClassifierReading.age(from: ageProbabilities, spec: ageClassifier.spec)
        let calibratedGroups = ClassifierReading.groupProbabilities(calibratedAge, spec: ageClassifier.spec)
        age.confidence = calibratedGroups[age.group.rawValue]
        let decision = settings.decision
        var observation = FaceObservation(
            box: face.box.pixelBox, detectionConfidence: face.confidence, gender: gender.gender,
            genderConfidence: gender.confidence, age: age.age, ageGroup: age.group, ageConfidence: age.confidence,
            genderDecided: gender.confidence >= decision.gender, ageDecided: age.confidence >= decision.age)
        let quality = FaceQuality(width: face.box.width, turn: points.flatMap(FaceQuality.turn(landmarks:)),
                                  sharpness: ageChip.laplacianVariance(),
                                  eyeSpan: points.flatMap(FaceQuality.eyeDistance(landmarks:)).map { $0 / max(face.box.width, 1) })
        observation.evidence = FaceEvidence(genderLogOdds: ClassifierReading.maleLogOdds(calibratedGender, labels: genderLabels),
                                            ageDistribution: calibratedAge,
                                            ageGroupProbabilities: calibratedGroups,
                                            quality: quality)
        return FaceAnalysis(observation: observation, landmarks: points)
    }

    /// One classifier's probabilities for a face, and the chip they were computed on;
    /// the mirror image's are averaged in when `confidence` of the first pass is below `mirrorBelow`.
    private func probabilities(_ classifier: FaceClassifier, face: DetectedFace, landmarks: [Point]?, image: Image,
                               confidence: ([Double]) -> Double) throws(VisionError) -> ([Double], Image) {
        let spec = classifier.spec
        let chipToImage: AffineTransform
        switch spec.crop {
        case .aligned(let padding):
            guard let landmarks else { throw .invalidSpecification(key: "crop", reason: "aligned crops need landmarks") }
            chipToImage = FaceChip.alignment(landmarks: landmarks, size: spec.inputWidth, padding: padding)
        case .box(let margin):
            chipToImage = FaceChip.boxCrop(box: face.box, size: spec.inputWidth, margin: margin)
        }
        let chip = try FaceChip.extract(from: image, chipToImage: chipToImage, width: spec.inputWidth, height: spec.inputHeight)
        let first = try classifier.probabilities(for: chip)
        guard settings.flipAverage, settings.mirrorBelow >= 1 || confidence(first) < settings.mirrorBelow else { return (first, chip) }
        let mirrored = try classifier.probabilities(for: try chip.flippedHorizontally())
        return (zip(first, mirrored).map { ($0 + $1) / 2 }, chip)
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
