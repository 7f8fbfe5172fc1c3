import EdgeCensusCounting
import EdgeCensusVisionTypes
import Foundation
import Testing

@Suite("Tracker")
struct FaceTrackerTests {
    static func face(x: Int, y: Int = 100, size: Int = 60, gender: Gender = .male, age: Double = 30) -> FaceObservation
    {
        FaceObservation(
            box: PixelBox(x: x, y: y, width: size, height: size), detectionConfidence: 0.9, gender: gender,
            genderConfidence: 0.9, age: age, ageGroup: AgeGroup(age: age), ageConfidence: 0.9)
    }

    static func tracker(minFrames: Int = 3, timeout: Double = 2) -> FaceTracker {
        var settings = TrackingSettings()
        settings.minTrackFrames = minFrames
        settings.trackTimeout = timeout
        return FaceTracker(settings: settings)
    }

    @Test("one person standing still for a minute is one visit, with dwell time")
    func standing() {
        var tracker = Self.tracker()
        var visits: [PersonVisit] = []
        for step in 0...120 { visits += tracker.update(faces: [Self.face(x: 200 + step % 3)], at: Double(step) * 0.5) }
        #expect(visits.isEmpty)
        #expect(tracker.peopleInView == 1)
        visits += tracker.update(faces: [], at: 63)
        #expect(visits.count == 1)
        #expect(visits.first?.dwell == 60)
    }

    @Test("a person walking a face width per analysis stays one track")
    func walking() {
        var tracker = Self.tracker()
        var visits: [PersonVisit] = []
        for step in 0..<12 { visits += tracker.update(faces: [Self.face(x: step * 55)], at: Double(step) * 0.5) }
        visits += tracker.finishAll()
        #expect(visits.count == 1)
    }

    @Test("two people crossing are two visits with their own genders")
    func crossing() {
        var tracker = Self.tracker()
        var visits: [PersonVisit] = []
        for step in 0...20 {
            let t = Double(step) * 0.5
            visits += tracker.update(
                faces: [
                    Self.face(x: step * 30, y: 80, gender: .male, age: 40),
                    Self.face(x: 600 - step * 30, y: 130, gender: .female, age: 25),
                ], at: t)
        }
        visits += tracker.update(faces: [], at: 20)
        #expect(visits.count == 2)
        #expect(Set(visits.compactMap(\.gender)) == [.male, .female])
        #expect(visits.first { $0.gender == .male }?.ageGroup == .from38to43)
    }

    @Test("a person leaving and coming back after the track expired is counted twice")
    func leaveAndReturn() {
        var tracker = Self.tracker(timeout: 2)
        var visits: [PersonVisit] = []
        for step in 0..<6 { visits += tracker.update(faces: [Self.face(x: 200)], at: Double(step) * 0.5) }
        visits += tracker.update(faces: [], at: 6)  // gone for 3.5 s > 2 s
        #expect(visits.count == 1)
        for step in 0..<6 { visits += tracker.update(faces: [Self.face(x: 200)], at: 10 + Double(step) * 0.5) }
        visits += tracker.finishAll()
        #expect(visits.count == 2)
    }

    @Test("a one-frame false detection is never counted")
    func falseDetection() {
        var tracker = Self.tracker(minFrames: 3)
        var visits = tracker.update(faces: [Self.face(x: 500)], at: 0)
        visits += tracker.update(faces: [], at: 5)
        visits += tracker.finishAll()
        #expect(visits.isEmpty)
    }

    static func observed(
        x: Int = 200, gender: Gender, confidence: Double, age: Double = 30,
        width: Double = 80, sharpness: Double = 300
    ) -> FaceObservation {
        var face = Self.face(x: x, gender: gender, age: age)
        face.genderConfidence = confidence
        let logOdds = log(confidence / (1 - confidence)) * (gender == .male ? 1 : -1)
        var groups = [Double](repeating: 0.02, count: 8)
        groups[AgeGroup(age: age).rawValue] = 0.86
        face.evidence = FaceEvidence(
            genderLogOdds: logOdds, ageDistribution: [], ageGroupProbabilities: groups,
            quality: FaceQuality(width: width, turn: 0.05, sharpness: sharpness))
        return face
    }

    static func visit(of faces: [FaceObservation], settings: TrackingSettings = TrackingSettings()) -> PersonVisit? {
        var tracker = FaceTracker(settings: settings)
        for (step, face) in faces.enumerated() { _ = tracker.update(faces: [face], at: Double(step) * 0.5) }
        return tracker.finishAll().first
    }

    @Test("a person's gender is voted with each frame's confidence: two sure frames outweigh three unsure ones")
    func confidenceWeightedGender() {
        let faces = [
            Self.observed(gender: .female, confidence: 0.99), Self.observed(gender: .male, confidence: 0.6),
            Self.observed(gender: .female, confidence: 0.99), Self.observed(gender: .male, confidence: 0.6),
            Self.observed(gender: .male, confidence: 0.6),
        ]
        #expect(Self.visit(of: faces)?.gender == .female)
        // A plain majority would have said male.
        #expect(faces.filter { $0.likelyGender == .male }.count == 3)
    }

    @Test("frames that disagree evenly leave the gender unknown, and the person is still counted")
    func disagreementIsUnknown() {
        let faces = (0..<6).map { Self.observed(gender: $0 % 2 == 0 ? .male : .female, confidence: 0.9) }
        let visit = Self.visit(of: faces)
        #expect(visit != nil)
        #expect(visit?.gender == nil)
    }

    @Test("a person seen only in poor frames (tiny, or blurred) stays unknown")
    func poorFramesStayUnknown() {
        let tiny = (0..<5).map { _ in Self.observed(gender: .male, confidence: 0.99, width: 20) }
        let blurred = (0..<5).map { _ in Self.observed(gender: .male, confidence: 0.99, sharpness: 5) }
        for faces in [tiny, blurred] {
            let visit = Self.visit(of: faces)
            #expect(visit != nil)
            #expect(visit?.gender == nil && visit?.ageGroup == nil)
        }
        // One good frame among poor ones is enough to decide.
        let mixed = tiny + [Self.observed(gender: .male, confidence: 0.99)]
        #expect(Self.visit(of: mixed)?.gender == .male)
    }

    @Test("the age is the weighted mean of the frames' ages, and its group must be likely enough")
    func ageVote() {
        let faces = [
            Self.observed(gender: .female, confidence: 0.95, age: 28),
            Self.observed(gender: .female, confidence: 0.95, age: 30),
            Self.observed(gender: .female, confidence: 0.95, age: 32, width: 40),
        ]
        let visit = Self.visit(of: faces)
        // Weights 1, 1 and 0.5 (the small face): (28 + 30 + 16) / 2.5.
        #expect(abs((visit?.age ?? 0) - 29.6) < 1e-9)
        #expect(visit?.ageGroup == .from25to32)
        var strict = TrackingSettings()
        strict.decision.age = 0.9
        #expect(Self.visit(of: faces, settings: strict)?.ageGroup == nil)
    }

    @Test(
        "once a person's answers are settled their face is classified only for a check every few sightings, and the saving is counted"
    )
    func settledTracksAreNotClassified() {
        var settings = TrackingSettings()
        settings.settleAfter = 3
        var tracker = FaceTracker(settings: settings)
        var asked: [Bool] = []
        for step in 0..<8 {
            let face = Self.observed(x: 200 + step, gender: .female, confidence: 0.97, age: 30)
            let match = tracker.match(boxes: [face.box], at: Double(step) * 0.5)
            asked.append(match.needsClassification[0])
            _ = tracker.update(match, observations: [match.needsClassification[0] ? face : nil])
        }
        #expect(asked == [true, true, true, false, false, false, false, true])
        #expect(tracker.classificationsSaved == 4)
        let visit = tracker.finishAll().first
        #expect(visit?.gender == .female && visit?.ageGroup == .from25to32)
    }

    @Test("a check that contradicts a settled answer (the track may have swapped people) unsettles it")
    func contradictionUnsettles() {
        var settings = TrackingSettings()
        settings.settleAfter = 3
        settings.settledCheckEvery = 2
        var tracker = FaceTracker(settings: settings)
        var asked: [Bool] = []
        for step in 0..<9 {
            // Three sure female frames, then the track follows a sure male face.
            let face = Self.observed(x: 200, gender: step < 3 ? .female : .male, confidence: 0.99)
            let match = tracker.match(boxes: [face.box], at: Double(step) * 0.5)
            asked.append(match.needsClassification[0])
            _ = tracker.update(match, observations: [match.needsClassification[0] ? face : nil])
        }
        // Settled after 3, checked at the 5th sighting: contradicted, so classified again from then on
        // until the vote settles anew.
        #expect(asked[3] == false && asked[4] == true && asked[5] == true)
    }

    @Test("a settled person's face matched by position only (no overlap) is classified again")
    func positionMatchIsChecked() {
        var settings = TrackingSettings()
        settings.settleAfter = 2
        var tracker = FaceTracker(settings: settings)
        for step in 0..<3 {
            let face = Self.observed(x: 200, gender: .female, confidence: 0.99)
            let match = tracker.match(boxes: [face.box], at: Double(step) * 0.5)
            _ = tracker.update(match, observations: [face])
        }
        let still = tracker.match(boxes: [Self.face(x: 200).box], at: 1.5)
        #expect(still.needsClassification == [false])
        // Half a face width away: not overlapping enough, but near: matched by position.
        let jumped = tracker.match(boxes: [Self.face(x: 250).box], at: 1.5)
        #expect(jumped.needsClassification == [true])
    }

    @Test("a person whose answers stay undecided is still classified until the evidence is ample")
    func undecidedTracksKeepBeingClassified() {
        var settings = TrackingSettings()
        settings.settleAfter = 2
        var tracker = FaceTracker(settings: settings)
        var asked = 0
        for step in 0..<10 {
            let face = Self.observed(x: 200, gender: step % 2 == 0 ? .male : .female, confidence: 0.8)
            let match = tracker.match(boxes: [face.box], at: Double(step) * 0.5)
            if match.needsClassification[0] { asked += 1 }
            _ = tracker.update(match, observations: [match.needsClassification[0] ? face : nil])
        }
        // Undecided: settles only at three times settle_after (6 good frames).
        #expect(asked == 6)
    }
}
