import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("Face pipeline on real photos", .serialized)
struct FacePipelineTests {
    /// Loading the models takes a moment: share one pipeline across the suite's tests.
    nonisolated(unsafe) static let pipeline: FacePipeline? = try? FacePipeline.load(
        from: ModelDirectory(path: TestPaths.models))
    // nonisolated(unsafe): the suite is `.serialized`, so only one test uses it at a time.

    static func analyse(_ path: String) throws -> [FaceObservation] {
        let pipeline = try #require(pipeline, "the shipped models load")
        return try pipeline.analyse(try Image.load(contentsOf: path))
    }

    @Test("the detector sees a frame at its own aspect ratio when asked (longer side 300), else squashed to 300x300")
    func detectorInputSize() throws {
        let pipeline = try #require(Self.pipeline, "the shipped models load")
        let wide = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png").resized(width: 640, height: 360)
        let tall = try wide.resized(width: 360, height: 640)
        var keeping = DetectionSettings()
        keeping.keepAspect = true
        let aspect = FaceDetector(
            network: try NeuralNetwork.caffe(
                prototxt: TestPaths.models + "/face-detector/deploy-opencv.prototxt",
                weights: TestPaths.models + "/face-detector/res10_300x300_ssd_iter_140000-opencv.caffemodel"),
            settings: keeping)
        #expect(aspect.inputSize(for: wide) == (300, 169))
        #expect(aspect.inputSize(for: tall) == (169, 300))
        let squashing = try #require(pipeline.detector as? FaceDetector, "the default set's detector is res10")
        #expect(squashing.inputSize(for: wide) == (300, 300))
        // The face is found either way, in the same place.
        let squashedFace = try #require(try squashing.detect(in: wide).first)
        let keptFace = try #require(try aspect.detect(in: wide).first)
        #expect(squashedFace.box.intersectionOverUnion(keptFace.box) > 0.6)
    }

    @Test("the mirror pass runs only for first answers less sure than mirror_below: at 0 never, at 1 always")
    func mirrorOnlyWhenUnsure() throws {
        let photo = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")
        func passes(mirrorBelow: Double) throws -> (Int, FaceObservation) {
            var settings = PipelineSettings()
            settings.mirrorBelow = mirrorBelow
            let pipeline = try FacePipeline.load(from: ModelDirectory(path: TestPaths.models), settings: settings)
            let face = try #require(try pipeline.analyse(photo).first)
            return (pipeline.genderClassifier.forwardCount + pipeline.ageClassifier.forwardCount, face)
        }
        let (never, single) = try passes(mirrorBelow: 0)
        let (always, averaged) = try passes(mirrorBelow: 1)
        // One face: one pass per net against two; the answers differ a little.
        #expect(never == 2 && always == 4)
        #expect(single.likelyGender == averaged.likelyGender)
        #expect(single.genderConfidence != averaged.genderConfidence)
        // The astronaut's gender is sure (0.84 mirrored); below 0.8 only the age net is mirrored.
        let (some, _) = try passes(mirrorBelow: 0.8)
        #expect(some == 3)
    }

    @Test("the astronaut is one woman, adult")
    func astronaut() throws {
        let faces = try Self.analyse(TestPaths.samples + "/astronaut.png")
        let face = try #require(faces.first)
        #expect(faces.count == 1)
        #expect(face.gender == .female)
        #expect((20...50).contains(face.age))
        #expect(face.detectionConfidence > 0.9)
        #expect(face.box.x > 150 && face.box.x < 200 && face.box.width > 70 && face.box.width < 130)
    }

    /// A baby's gender is not something these nets (or people) tell reliably: 0019 is checked for age only.
    @Test(
        "the bundled FairFace photos get their labelled gender and an age near their range",
        arguments: [
            ("fairface_0019.jpg", Gender?.none, 0...5), ("fairface_0121.jpg", .female, 15...35),
            ("fairface_0152.jpg", .male, 15...35), ("fairface_0262.jpg", .male, 30...60),
        ])
    func fairFace(file: String, gender: Gender?, ages: ClosedRange<Int>) throws {
        let faces = try Self.analyse(TestPaths.samples + "/" + file)
        let largest = try #require(faces.max { $0.box.width * $0.box.height < $1.box.width * $1.box.height })
        if let gender { #expect(largest.gender == gender) }
        #expect(ages.contains(Int(largest.age)), "age \(largest.age)")
    }

    @Test("an image without a face gives no face")
    func noFace() throws {
        // A smooth colour gradient with a few shapes: nothing face-like.
        var pixels: [UInt8] = []
        for y in 0..<240 {
            for x in 0..<320 { pixels += [UInt8(x * 255 / 320), UInt8(y * 255 / 240), UInt8((x + y) % 256)] }
        }
        let image = try Image(width: 320, height: 240, channels: 3, pixels: pixels)
        let pipeline = try #require(Self.pipeline)
        #expect(try pipeline.analyse(image).isEmpty)
    }

    @Test(
        "the shared photos: every listed face is found", .enabled(if: TestPaths.hasSharedFaces, "needs ../shared/faces")
    )
    func sharedPhotos() throws {
        let listing = try String(contentsOfFile: TestPaths.sharedPhotos + "/faces.csv", encoding: .utf8)
        let rows = listing.split(whereSeparator: \.isNewline).dropFirst()
        #expect(rows.count == 9)
        for line in rows {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            // "2 (+1 child partly visible ...)": the leading number is the faces that must be found.
            let expected = Int(fields[1].prefix { $0.isNumber }) ?? 0
            let faces = try Self.analyse(TestPaths.sharedPhotos + "/" + fields[0])
            #expect(faces.count >= expected, "\(fields[0]): \(faces.count) of \(expected) faces")
            #expect(faces.count <= expected + 2, "\(fields[0]): \(faces.count) faces, \(expected) expected")
        }
    }

    @Test("a tightly cropped face is found whole thanks to the border pass")
    func tightCrop() throws {
        // Cut the astronaut's face so that it fills the frame, as UTKFace chips do.
        let photo = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")
        let crop = try photo.warped(
            by: AffineTransform(a: 1, b: 0, tx: 170, c: 0, d: 1, ty: 50), width: 110, height: 130)
        let faces = try Self.analyse(try writePNG(crop))
        let face = try #require(faces.first)
        #expect(face.gender == .female)
        #expect(face.box.width > 70, "the whole face, not a part of it: \(face.box)")
    }

    @Test("with the border pass off, the same settings still find ordinary faces")
    func borderOff() throws {
        var settings = PipelineSettings()
        settings.detection.border = 0
        let pipeline = try FacePipeline.load(from: try ModelDirectory(path: TestPaths.models), settings: settings)
        #expect(try pipeline.analyse(try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")).count == 1)
    }

    private func writePNG(_ image: Image) throws -> String {
        let path = NSTemporaryDirectory() + "edgecensus-tight-\(UUID().uuidString).png"
        try image.write(to: path)
        return path
    }
}

@Suite("Reading classifier outputs")
struct ClassifierReadingTests {
    @Test("gender follows the label order the spec gives")
    func genderOrder() {
        #expect(
            ClassifierReading.gender(from: [0.3, 0.7], labels: [.female, .male])
                == GenderReading(gender: .male, confidence: 0.7))
        #expect(
            ClassifierReading.gender(from: [0.3, 0.7], labels: [.male, .female])
                == GenderReading(gender: .female, confidence: 0.7))
    }

    @Test("age is the expected value over the classes, its confidence the mass inside its group")
    func expectedAge() {
        var probabilities = [Double](repeating: 0, count: 81)
        probabilities[20] = 0.5
        probabilities[30] = 0.5
        let reading = ClassifierReading.age(from: probabilities, spec: .dlibAge)
        #expect(reading.age == 25)
        #expect(reading.group == .from25to32)
        #expect(reading.confidence == 0.5)  // 30 is in (25-32), 20 is not
    }

    @Test("class 0 counts as a quarter year, as upstream weights it")
    func babyWeight() {
        var probabilities = [Double](repeating: 0, count: 81)
        probabilities[0] = 1
        #expect(ClassifierReading.age(from: probabilities, spec: .dlibAge).age == 0.25)
    }

    @Test("an age net with group labels reports the most likely group's middle")
    func groupLabels() {
        let reading = ClassifierReading.age(
            from: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.1], spec: .leviHassnerAge(weights: "x"))
        #expect(reading == AgeReading(age: 50.5, group: .from48to53, confidence: 0.3))
    }

    @Test(
        "specs that cannot work are refused, naming the key",
        arguments: [
            (["male", "man"], "is neither 'male' nor 'female'"), (["male", "male"], "must name both"),
            ([], "needs labels"),
        ])
    func badGenderLabels(labels: [String], message: String) {
        var spec = ClassifierSpec.dlibGender
        spec.labels = labels
        let error = thrownError(VisionError.self) {
            try ClassifierReading.validateGender(spec, role: "classification.gender")
        }
        #expect(error?.description.contains(message) == true)
        #expect(error?.description.contains("classification.gender.labels") == true)
    }

    @Test(
        "an age in years is read with a log-normal spread: the group masses sum to one, and the age's own group holds the most"
    )
    func yearsSpread() {
        let (reading, groups) = ClassifierReading.age(years: 28, spread: 0.45)
        #expect(reading.age == 28 && reading.group == .from25to32)
        #expect(abs(groups.reduce(0, +) - 1) < 1e-9)
        #expect(groups.firstIndex(of: groups.max()!) == AgeGroup.from25to32.rawValue)
        #expect(reading.confidence == groups[AgeGroup.from25to32.rawValue])
        // ln(29) ± 0.45 spans about 17.5 to 44.5: the neighbours hold a share, the far groups almost none.
        #expect(groups[AgeGroup.from15to20.rawValue] > 0.1 && groups[AgeGroup.from38to43.rawValue] > 0.1)
        #expect(
            groups[AgeGroup.from0to2.rawValue] < 1e-4
                && groups[AgeGroup.from60to100.rawValue] < groups[AgeGroup.from38to43.rawValue])
    }

    @Test("an age near a group boundary, or read with a wider spread, is less sure of its group")
    func yearsConfidence() {
        let middle = ClassifierReading.age(years: 28.5, spread: 0.45).reading.confidence
        let nearBoundary = ClassifierReading.age(years: 34, spread: 0.45).reading.confidence
        let wider = ClassifierReading.age(years: 28.5, spread: 0.9).reading.confidence
        #expect(nearBoundary < middle && wider < middle)
        // A negative regression output is read as age 0, the youngest group.
        #expect(ClassifierReading.age(years: -2, spread: 0.45).reading.group == .from0to2)
    }

    @Test("a net with several outputs gives the gender or the age by its outputs; an age in years needs its spread")
    func multipleOutputs() throws {
        var spec = ClassifierSpec(
            model: "f.onnx", inputWidth: 112, inputHeight: 112, colorOrder: .rgb, mean: [0, 0, 0], scale: 1,
            crop: .trimmedSquare(trimTop: 0.15),
            outputs: [
                ClassifierOutput(name: "age", kind: .ageYears),
                ClassifierOutput(name: "gender", kind: .genderProbabilities(labels: ["male", "female"])),
            ])
        #expect(spec.gives == (gender: true, age: true))
        #expect(try ClassifierReading.validateGender(spec, role: "r") == [.male, .female])
        let error = thrownError(VisionError.self) {
            try ClassifierReading.validateAge(spec, role: "classification.age")
        }
        #expect(error?.description.contains("classification.age.age_spread") == true)
        spec.ageSpread = 0.45
        try ClassifierReading.validateAge(spec, role: "classification.age")
        #expect(
            ClassifierSpec.dlibGender.gives == (gender: true, age: false)
                && ClassifierSpec.dlibAge.gives == (gender: false, age: true))
    }

    @Test("an age spec needs ages or groups, and only known groups")
    func badAgeSpecs() {
        var both = ClassifierSpec.dlibAge
        both.labels = ["(0-2)"]
        #expect(throws: VisionError.self) { try ClassifierReading.validateAge(both, role: "classification.age") }
        var unknown = ClassifierSpec.leviHassnerAge(weights: "x")
        unknown.labels = ["(0-2)", "(3-7)"]
        let error = thrownError(VisionError.self) {
            try ClassifierReading.validateAge(unknown, role: "classification.age")
        }
        #expect(error?.description.contains("(3-7)") == true)
    }
}
