import COpenCV
import Foundation

/// A face's observation and the landmarks it was aligned on (nil for box crops).
public struct FaceAnalysis: Sendable {
    public var observation: FaceObservation
    public var landmarks: [Point]?
    /// The detector's own landmarks (YuNet's five), where it gives them.
    public var detectorLandmarks: [Point]? = nil
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
///
/// The classifiers each run once per face. The gender is fused from every net that
/// gives one (one net: its calibrated probabilities; several: the weighted sum of
/// their log-odds, `ClassifierSpec.genderWeight`); the age comes from one net.
public final class FacePipeline {
    public let detector: any FaceFinding
    public let landmarks: ShapePredictor?
    /// Every net, each run once per face.
    public let classifiers: [FaceClassifier]
    public let settings: PipelineSettings
    /// The index in `classifiers` of the net the age comes from.
    public let ageSource: Int
    /// The gender labels of each net that gives a gender, by index in `classifiers`.
    private let genderLabels: [Int: [Gender]]

    /// The first net that gives a gender (the only one in the default set).
    public var genderClassifier: FaceClassifier { classifiers[genderLabels.keys.min() ?? 0] }
    /// The net the age comes from.
    public var ageClassifier: FaceClassifier { classifiers[ageSource] }

    public convenience init(
        detector: any FaceFinding, landmarks: ShapePredictor?, genderClassifier: FaceClassifier,
        ageClassifier: FaceClassifier, settings: PipelineSettings
    ) throws(VisionError) {
        try self.init(
            detector: detector, landmarks: landmarks, classifiers: [genderClassifier, ageClassifier],
            roles: [("classification.gender", true, false), ("classification.age", false, true)], settings: settings)
    }

    /// `roles`: per classifier, the configuration key it was named under and whether
    /// its gender and its age are used. Exactly one net gives the age.
    public init(
        detector: any FaceFinding, landmarks: ShapePredictor?, classifiers: [FaceClassifier],
        roles: [(key: String, gender: Bool, age: Bool)], settings: PipelineSettings
    ) throws(VisionError) {
        precondition(classifiers.count == roles.count, "one role per classifier")
        self.detector = detector
        self.landmarks = landmarks
        self.classifiers = classifiers
        self.settings = settings
        var labels: [Int: [Gender]] = [:]
        var ageSource: Int?
        for (index, (classifier, role)) in zip(classifiers, roles).enumerated() {
            if role.gender { labels[index] = try ClassifierReading.validateGender(classifier.spec, role: role.key) }
            if role.age {
                guard ageSource == nil else {
                    throw .invalidSpecification(key: role.key, reason: "the age comes from one net only")
                }
                try ClassifierReading.validateAge(classifier.spec, role: role.key)
                ageSource = index
            }
            if case .aligned = classifier.spec.crop, landmarks == nil, settings.detectorLandmarkTemplate == nil {
                throw .invalidSpecification(key: "\(role.key).crop", reason: "aligned crops need the landmark model")
            }
        }
        guard let ageSource, !labels.isEmpty else {
            throw .invalidSpecification(
                key: "classification", reason: "a pipeline needs a net for the gender and one for the age")
        }
        if labels.count > 1,
            let unweighted = labels.keys.sorted().first(where: { classifiers[$0].spec.genderWeight == nil })
        {
            throw .invalidSpecification(
                key: "\(roles[unweighted].key).gender_weight",
                reason: "a gender fused from several nets needs each net's weight")
        }
        self.ageSource = ageSource
        genderLabels = labels
    }

    /// What runs, for a report's first line: "res10 SSD 300x300; gender: gender-v1-opencv.onnx;
    /// age: age-v1-opencv.onnx", or the set's YuNet and nets with the gender's weights.
    public var summary: String {
        let detectorName: String
        if let yunet = detector as? YuNetDetector {
            detectorName =
                "YuNet \(yunet.inputWidth)x\(yunet.inputHeight)\(yunet.settings.fitToImage ? " (frames at their aspect)" : ""), score ≥ \(yunet.settings.scoreThreshold)"
        } else if let ssd = detector as? FaceDetector {
            detectorName =
                "res10 SSD " + (ssd.settings.keepAspect ? "at the frame's aspect, longer side 300" : "300x300")
        } else {
            detectorName = "\(type(of: detector))"
        }
        func name(_ index: Int) -> String { (classifiers[index].spec.model as NSString).lastPathComponent }
        let genders = genderLabels.keys.sorted().map { index in
            classifiers[index].spec.genderWeight.map { String(format: "%@ × %.3g", name(index), $0) } ?? name(index)
        }
        return "\(detectorName); gender: \(genders.joined(separator: " + ")); age: \(name(ageSource))"
    }

    /// Seconds spent in the nets' forward passes so far (the rest of the
    /// pipeline's time is its own: decoding aside, resizing, blobs, landmarks, crops).
    public var forwardSeconds: Double {
        classifiers.reduce(detector.forwardSeconds) { $0 + $1.forwardSeconds }
    }

    /// Loads every model the configuration names, verifying checksums. A set with a
    /// `model-set.json` that names roles brings its detector and, unless the
    /// configuration names its own nets, its nets and how their answers are combined.
    public static func load(
        from models: ModelDirectory, gender: ClassifierSpec = .dlibGender,
        age: ClassifierSpec = .dlibAge, settings: PipelineSettings = PipelineSettings()
    ) throws(VisionError) -> FacePipeline {
        let manifest = try ModelSetManifest.load(from: models)
        let setRoles = manifest?.classifiers()
        var settings = settings
        let detector: any FaceFinding
        if setRoles != nil, let entry = manifest?.detector {
            detector = try YuNetDetector.load(entry, from: models, detection: settings.detection)
            settings.detectorLandmarkTemplate = entry.landmarkTemplate?.map { Point(x: $0[0], y: $0[1]) }
            if let alignment = entry.alignment {
                settings.alignment.scale = alignment.scale
                settings.alignment.shift = alignment.shift
            }
        } else {
            detector = try FaceDetector.load(from: models, settings: settings.detection)
        }
        let plan: [(spec: ClassifierSpec, key: String, gender: Bool, age: Bool)]
        if let setRoles, gender == .dlibGender, age == .dlibAge {
            plan = setRoles
        } else if gender == age {
            // One net configured for both (a net with an age and a gender output): run once.
            plan = [(gender, "classification.gender", true, true)]
        } else {
            plan = [(gender, "classification.gender", true, false), (age, "classification.age", false, true)]
        }
        var landmarks: ShapePredictor?
        if settings.detectorLandmarkTemplate == nil,
            plan.contains(where: { if case .aligned = $0.spec.crop { true } else { false } })
        {
            let path = try models.verifiedFile(
                "dlib-cydral/shape_predictor_5_face_landmarks.dat", role: "face landmark model")
            landmarks = try ShapePredictor(contentsOf: path)
        }
        var classifiers: [FaceClassifier] = []
        for entry in plan { classifiers.append(try .load(entry.spec, from: models, role: entry.key)) }
        let pipeline = try FacePipeline(
            detector: detector, landmarks: landmarks, classifiers: classifiers,
            roles: plan.map { ($0.key, $0.gender, $0.age) }, settings: settings)
        releaseFreedHeapPages()
        return pipeline
    }

    /// Loading parses 30 MB of model files into buffers that are then freed; the
    /// allocator keeps those pages (megabytes: Tests/Bench/HISTORY.md) unless asked to give them back.
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
        return try found.faces.indices.map { index throws(VisionError) in
            try classify(index, of: found, timings: &timings)
        }
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
    public func classify(_ index: Int, of found: FoundFaces, timings: inout StageTimings) throws(VisionError)
        -> FaceAnalysis
    {
        timings.faces += 1
        var analysis = try classify(found.detected[index], in: found.source, timings: &timings)
        // Report in the frame's own coordinates.
        analysis.observation.box = found.faces[index]
        analysis.landmarks = analysis.landmarks?.map { Point(x: $0.x - found.offset.x, y: $0.y - found.offset.y) }
        analysis.detectorLandmarks =
            found.detected[index].shifted(by: Point(x: -found.offset.x, y: -found.offset.y)).landmarks
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
        let plain = try detector.faces(in: image)
        let fraction = settings.detection.border
        guard fraction > 0 else { return (image, Point(x: 0, y: 0), plain) }
        let padX = Int(Double(image.width) * fraction), padY = Int(Double(image.height) * fraction)
        let framed = try image.padded(top: padY, bottom: padY, left: padX, right: padX, replicatingEdges: true)
        let offset = Point(x: Double(padX), y: Double(padY))
        let photo = Box(x: offset.x, y: offset.y, width: Double(image.width), height: Double(image.height))
        // A face found mostly in the border is a reflection of the repeated edge, not in the photo.
        var faces = try detector.faces(in: framed).filter { $0.box.intersection(photo).area >= 0.5 * $0.box.area }
        for face in plain {
            let shifted = face.shifted(by: offset)
            let touchesEdge =
                face.box.x < 1 || face.box.y < 1 || face.box.x + face.box.width > Double(image.width) - 1
                || face.box.y + face.box.height > Double(image.height) - 1
            if let twin = faces.firstIndex(where: { $0.box.overlapOfSmaller(shifted.box) >= 0.5 }) {
                if !touchesEdge { faces[twin] = shifted }
            } else {
                faces.append(shifted)
            }
        }
        return (framed, offset, faces.sorted { $0.confidence > $1.confidence })
    }

    /// The landmarks the aligned crops use, for one detected face: the detector's own
    /// (mapped onto dlib's five points through `settings.detectorLandmarkTemplate`)
    /// where the set says they align as well, else the shape predictor's.
    public func landmarks(of face: DetectedFace, in image: Image) -> [Point]? {
        if let template = settings.detectorLandmarkTemplate, let points = face.landmarks, points.count == template.count
        {
            return FaceChip.fivePoints(fromDetector: points, template: template)
        }
        guard let landmarks else { return nil }
        let box = face.box, side = box.width * settings.alignment.scale
        let centre = Point(x: box.centre.x, y: box.centre.y + settings.alignment.shift * box.height)
        return landmarks.landmarks(
            in: image, box: Box(x: centre.x - side / 2, y: centre.y - side / 2, width: side, height: side))
    }

    private func classify(_ face: DetectedFace, in image: Image, timings: inout StageTimings) throws(VisionError)
        -> FaceAnalysis
    {
        var clock = ContinuousClock.now
        let points = landmarks(of: face, in: image)
        timings.align += (ContinuousClock.now - clock).seconds
        clock = ContinuousClock.now
        var readings: [NetReading] = []
        var ageChip: Image?
        for (index, classifier) in classifiers.enumerated() {
            let (reading, chip) = try read(
                classifier, labels: genderLabels[index], face: face, landmarks: points, image: image)
            readings.append(reading)
            if index == ageSource { ageChip = chip }
        }
        timings.classify += (ContinuousClock.now - clock).seconds

        let (gender, genderLogOdds) = fusedGender(readings)
        let ageSpec = ageClassifier.spec, ageReading = readings[ageSource]
        var age: AgeReading
        let ageDistribution: [Double], groups: [Double]
        if let years = ageReading.ageYears {
            (age, groups) = ClassifierReading.age(years: years, spread: ageSpec.ageSpread ?? 1)
            ageDistribution = []
        } else {
            let probabilities = ageReading.ageProbabilities ?? []
            ageDistribution = ClassifierReading.calibrated(probabilities, temperature: ageSpec.temperature)
            // The age and its group come from the net's own distribution (softening it
            // would move the expected age); the calibrated one says how sure the group is.
            age = ClassifierReading.age(from: probabilities, spec: ageSpec)
            groups = ClassifierReading.groupProbabilities(ageDistribution, spec: ageSpec)
            age.confidence = groups[age.group.rawValue]
        }
        let decision = settings.decision
        var observation = FaceObservation(
            box: face.box.pixelBox, detectionConfidence: face.confidence, gender: gender.gender,
            genderConfidence: gender.confidence, age: age.age, ageGroup: age.group, ageConfidence: age.confidence,
            genderDecided: gender.confidence >= decision.gender, ageDecided: age.confidence >= decision.age)
        let quality = FaceQuality(
            width: face.box.width, turn: points.flatMap(FaceQuality.turn(landmarks:)),
            sharpness: try Self.sharpness(of: ageChip),
            eyeSpan: points.flatMap(FaceQuality.eyeDistance(landmarks:)).map { $0 / max(face.box.width, 1) })
        observation.evidence = FaceEvidence(
            genderLogOdds: genderLogOdds, ageDistribution: ageDistribution,
            ageGroupProbabilities: groups, quality: quality, readings: readings)
        return FaceAnalysis(observation: observation, landmarks: points)
    }

    /// The gender and its calibrated log-odds (male over female). One net: its
    /// probabilities, temperature-scaled. Several: the sum of each net's raw log-odds
    /// times its weight.
    private func fusedGender(_ readings: [NetReading]) -> (GenderReading, Double) {
        if genderLabels.count == 1, let (index, labels) = genderLabels.first,
            classifiers[index].spec.genderWeight == nil
        {
            let calibrated = ClassifierReading.calibrated(
                readings[index].gender ?? [], temperature: classifiers[index].spec.temperature)
            return (
                ClassifierReading.gender(from: calibrated, labels: labels),
                ClassifierReading.maleLogOdds(calibrated, labels: labels)
            )
        }
        var logOdds = 0.0
        for (index, labels) in genderLabels {
            let raw = ClassifierReading.maleLogOdds(readings[index].gender ?? [], labels: labels)
            logOdds += (classifiers[index].spec.genderWeight ?? 1 / classifiers[index].spec.temperature) * raw
        }
        let male = 1 / (1 + exp(-logOdds))
        return (
            male >= 0.5
                ? GenderReading(gender: .male, confidence: male) : GenderReading(gender: .female, confidence: 1 - male),
            logOdds
        )
    }

    /// The Laplacian variance the quality weights were set on: of a 64x64 chip (the
    /// dlib age net's); a larger chip is resized to that first.
    static func sharpness(of chip: Image?) throws(VisionError) -> Double {
        guard let chip else { return .infinity }
        guard chip.width != 64 || chip.height != 64 else { return chip.laplacianVariance() }
        return try chip.resized(width: 64, height: 64, smoothing: true).laplacianVariance()
    }

    /// One classifier's reading of a face, and the chip it was computed on. The mirror
    /// image's reading is averaged in when the first pass's confidence is below
    /// `mirrorBelow` (for a net that gives a gender, its calibrated gender confidence;
    /// otherwise its age group's).
    private func read(
        _ classifier: FaceClassifier, labels: [Gender]?, face: DetectedFace, landmarks: [Point]?,
        image: Image
    ) throws(VisionError) -> (NetReading, Image) {
        let spec = classifier.spec
        let chip = try FaceChip.cut(for: spec, box: face.box, landmarks: landmarks, from: image)
        let first = try classifier.reading(for: chip)
        guard settings.flipAverage else { return (first, chip) }
        if settings.mirrorBelow < 1 {
            let confidence: Double
            if let labels, let gender = first.gender {
                confidence =
                    ClassifierReading.gender(
                        from: ClassifierReading.calibrated(gender, temperature: spec.temperature),
                        labels: labels
                    ).confidence
            } else if let years = first.ageYears {
                confidence = ClassifierReading.age(years: years, spread: spec.ageSpread ?? 1).reading.confidence
            } else {
                let raw = first.ageProbabilities ?? []
                let group = ClassifierReading.age(from: raw, spec: spec).group
                confidence =
                    ClassifierReading.groupProbabilities(
                        ClassifierReading.calibrated(raw, temperature: spec.temperature),
                        spec: spec)[group.rawValue]
            }
            if confidence >= settings.mirrorBelow { return (first, chip) }
        }
        return (first.averaged(with: try classifier.reading(for: try chip.flippedHorizontally())), chip)
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
