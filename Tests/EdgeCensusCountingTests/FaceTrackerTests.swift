import EdgeCensusCounting
import EdgeCensusVision
import Testing

@Suite("Tracker")
struct FaceTrackerTests {
    static func face(x: Int, y: Int = 100, size: Int = 60, gender: Gender = .male, age: Double = 30) -> FaceObservation {
        FaceObservation(box: PixelBox(x: x, y: y, width: size, height: size), detectionConfidence: 0.9, gender: gender,
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
            visits += tracker.update(faces: [Self.face(x: step * 30, y: 80, gender: .male, age: 40),
                                             Self.face(x: 600 - step * 30, y: 130, gender: .female, age: 25)], at: t)
        }
        visits += tracker.update(faces: [], at: 20)
        #expect(visits.count == 2)
        #expect(Set(visits.map(\.gender)) == [.male, .female])
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

    @Test("gender is the majority, age the median of the observations")
    func votes() {
        var tracker = Self.tracker()
        let observations: [(Gender, Double)] = [(.female, 20), (.male, 60), (.female, 31), (.female, 33), (.male, 29)]
        for (step, (gender, age)) in observations.enumerated() {
            _ = tracker.update(faces: [Self.face(x: 200, gender: gender, age: age)], at: Double(step))
        }
        let visit = tracker.finishAll().first
        #expect(visit?.gender == .female)
        #expect(visit?.age == 31)
        #expect(visit?.ageGroup == .from25to32)
    }
}
