import EdgeCensusTestSupport
import EdgeCensusVision
import Testing

@testable import EdgeCensusEvaluation

@Suite("Labelled sets")
struct LabelledSetTests {
    @Test("rows with exact ages and with ranges, quoted fields with commas")
    func parse() throws {
        let set = try LabelledSet.parse(
            """
            file,age,age_min,age_max,gender,dataset,license
            a/1.jpg,26,26,26,female,UTKFace,"non-commercial, research"
            b/2.jpg,,20,29,male,FairFace,"CC BY 4.0 (FairFace, Karkkainen & Joo)"

            """, folder: "/data")
        #expect(set.faces.count == 2)
        #expect(
            set.faces[0]
                == LabelledFace(
                    path: "/data/a/1.jpg", gender: .female, exactAge: 26, ageRange: 26...26, dataset: "UTKFace"))
        #expect(set.faces[1].exactAge == nil && set.faces[1].ageRange == 20...29 && set.faces[1].gender == .male)
    }

    @Test(
        "bad rows are reported with their line",
        arguments: [
            ("file,age,age_min,age_max,gender,dataset\nx.jpg,,1,2,robot,D\n", "set.csv:2: gender 'robot'"),
            ("file,age,age_min,age_max,gender,dataset\nx.jpg,old,1,2,male,D\n", "not a number"),
            ("file,age,age_min,age_max,gender,dataset\nx.jpg,,9,2,male,D\n", "not a range"),
            ("file,age,gender\nx.jpg,3,male\n", "no 'age_min' column"),
        ])
    func badRows(csv: String, message: String) {
        let error = thrownError(LabelledSet.FormatError.self) {
            try LabelledSet.parse(csv, folder: "/", source: "set.csv")
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test("the shared labels parse: 202 UTKFace and 270 FairFace rows", .enabled(if: TestPaths.hasSharedFaces))
    func sharedLabels() throws {
        let set = try LabelledSet.load(csv: TestPaths.shared + "/faces/labels.csv")
        #expect(set.faces.filter { $0.dataset == "UTKFace" }.count == 202)
        #expect(set.faces.filter { $0.dataset == "FairFace" }.count == 270)
    }
}

@Suite("Scores")
struct DatasetScoreTests {
    static func face(_ gender: Gender, age: Double, group: AgeGroup) -> FaceObservation {
        FaceObservation(
            box: PixelBox(x: 0, y: 0, width: 10, height: 10), detectionConfidence: 1, gender: gender,
            genderConfidence: 1, age: age, ageGroup: group, ageConfidence: 1)
    }

    @Test("figures over exact ages: MAE, group exact and one-off, confusion")
    func exactAges() {
        var score = DatasetScore(name: "set")
        let label = { (gender: Gender, age: Double) in
            LabelledFace(path: "", gender: gender, exactAge: age, ageRange: Int(age)...Int(age), dataset: "set")
        }
        score.add(label(.male, 30), prediction: Self.face(.male, age: 28, group: .from25to32))  // exact group
        score.add(label(.female, 40), prediction: Self.face(.male, age: 50, group: .from48to53))  // one off
        score.add(label(.female, 10), prediction: Self.face(.female, age: 40, group: .from38to43))  // far off
        score.add(label(.male, 70), prediction: nil)  // not detected
        #expect(score.detectionRate == 0.75)
        #expect(score.genderAccuracy == 2.0 / 3)
        let expectedError: Double = 42.0 / 3  // |28-30| + |50-40| + |40-10|
        #expect(score.ageMeanAbsoluteError == expectedError)
        #expect(score.groupExactAccuracy == 1.0 / 3)
        #expect(score.groupOneOffAccuracy == 2.0 / 3)
        #expect(score.confusion[.female]?[.male] == 1)
        #expect(score.inRangeShare == nil)
    }

    @Test("an age is in a range of whole years when it rounds into it")
    func ranges() {
        var score = DatasetScore(name: "set")
        let label = LabelledFace(path: "", gender: .male, exactAge: nil, ageRange: 3...9, dataset: "set")
        score.add(label, prediction: Self.face(.male, age: 9.4, group: .from8to12))
        score.add(label, prediction: Self.face(.male, age: 2.6, group: .from0to2))
        score.add(label, prediction: Self.face(.male, age: 9.6, group: .from8to12))
        score.add(label, prediction: Self.face(.male, age: 2.4, group: .from0to2))
        #expect(score.inRangeShare == 0.5)
    }
}

@Suite("Accuracy against coverage, and calibration")
struct SelectiveScoreTests {
    static func score(_ answers: [(Double, Bool)]) -> SelectiveScore {
        var score = SelectiveScore()
        for (confidence, right) in answers { score.add(confidence: confidence, right: right) }
        return score
    }

    @Test("the most confident share is scored: wrong answers given with low confidence drop out first")
    func coverage() {
        let score = Self.score([
            (0.99, true), (0.95, true), (0.9, true), (0.8, false), (0.7, true),
            (0.65, true), (0.6, false), (0.58, true), (0.55, false), (0.51, false),
        ])
        #expect(score.accuracy == 0.6)
        #expect(score.accuracy(atCoverage: 1) == 0.6)
        #expect(score.accuracy(atCoverage: 0.8) == 6.0 / 8)
        #expect(score.accuracy(atCoverage: 0.3) == 1)
        let decided = score.decided(atLeast: 0.65)
        #expect(decided.accuracy == 5.0 / 6 && decided.coverage == 0.6)
    }

    @Test(
        "the calibration error is zero when each confidence is the accuracy of its bin, and grows with overconfidence")
    func calibrationError() {
        // 0.75 right 3 times in 4, 0.95 right 19 times in 20: calibrated.
        let calibrated = Self.score(
            Array(repeating: (0.75, true), count: 3) + [(0.75, false)]
                + Array(repeating: (0.95, true), count: 19) + [(0.95, false)])
        #expect(abs(calibrated.expectedCalibrationError(lowest: 0.5)! - 0) < 1e-12)
        // Everything said with 0.99, right half the time: off by 0.49.
        let overconfident = Self.score([(0.99, true), (0.99, false), (0.99, true), (0.99, false)])
        #expect(abs(overconfident.expectedCalibrationError(lowest: 0.5)! - 0.49) < 1e-12)
        #expect(overconfident.reliability(lowest: 0.5).count == 1)
    }

    @Test("a dataset score counts decided answers apart from the likelier ones")
    func decidedAnswers() {
        var score = DatasetScore(name: "set")
        let label = LabelledFace(path: "", gender: .female, exactAge: 30, ageRange: 30...30, dataset: "set")
        score.add(
            label,
            prediction: FaceObservation(
                box: PixelBox(x: 0, y: 0, width: 10, height: 10), detectionConfidence: 1, gender: .female,
                genderConfidence: 0.6,
                age: 30, ageGroup: .from25to32, ageConfidence: 0.2, genderDecided: false, ageDecided: true))
        score.add(
            label,
            prediction: FaceObservation(
                box: PixelBox(x: 0, y: 0, width: 10, height: 10), detectionConfidence: 1, gender: .male,
                genderConfidence: 0.9,
                age: 50, ageGroup: .from48to53, ageConfidence: 0.5, genderDecided: true, ageDecided: true))
        #expect(score.genderAccuracy == 0.5)  // the likelier gender, decided or not
        #expect(score.genderCoverage == 0.5)
        #expect(score.decidedGenderAccuracy == 0)
        #expect(score.decidedAgeAccuracy == 0.5 && score.ageCoverage == 1)
    }
}
