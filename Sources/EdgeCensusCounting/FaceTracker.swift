public import EdgeCensusVisionTypes
import Foundation

/// How faces are followed from one analysed frame to the next, and how a
/// person's answers are voted from their frames.
public struct TrackingSettings: Sendable, Equatable {
    /// A track counts as a person once seen in this many analysed frames (so a
    /// one-frame false detection is never counted).
    public var minTrackFrames = 3
    /// A track not seen for this many seconds has ended (the person left).
    public var trackTimeout = 3.0
    /// A face continues a track when their boxes overlap at least this much (IoU) ...
    public var minOverlap = 0.2
    /// ... or when its centre is within this many face widths of where the track is
    /// expected to be (its last position moved on at its last speed). People walk
    /// about a face width between two analyses at 2 per second.
    public var maxCentreDistance = 1.0
    /// `tracking.settle_after`: once a person's votes weigh this many good frames
    /// and both answers are decided (or weigh three times as many, decided or not),
    /// the person is settled and their face is no longer classified, but for a check
    /// every `settledCheckEvery` sightings and whenever the face was matched to the
    /// track by position rather than overlap (where two people's tracks can swap).
    /// A check that contradicts the settled answer unsettles the person. 0: never settle.
    public var settleAfter = 5.0
    public var settledCheckEvery = 5
    /// The thresholds a person's voted answers must reach (`classification.*_min_confidence`).
    public var decision = DecisionThresholds()
    public init() {}
}

/// A person who has left the view: what the counts are made of. No box, no
/// image, no identifier: only the summary of their visit.
public struct PersonVisit: Sendable, Equatable {
    /// The gender voted from the person's frames; nil (unknown) when the vote was
    /// not sure enough or the frames were too poor.
    public var gender: Gender?
    /// The likelier gender of the vote, decided or not (nil without a vote), for
    /// measuring the votes; never published.
    public var likelyGender: Gender?
    /// The voted age group, or nil (unknown), and the voted age.
    public var ageGroup: AgeGroup?
    public var age: Double?
    /// Seconds between the first and the last frame the person was seen in.
    public var dwell: Double
    /// When the visit ended (last seen), on the agent's clock.
    public var end: Double

    public init(gender: Gender?, age: Double?, ageGroup: AgeGroup?, dwell: Double, end: Double) {
        self.gender = gender
        self.age = age
        self.ageGroup = ageGroup
        self.dwell = dwell
        self.end = end
    }
}

/// A person's answers voted across their frames. Each frame's calibrated evidence
/// counts with the weight of its view (`FaceQualityWeight`): the gender from the
/// weighted mean of the log-odds, the age group from the weighted mean of the group
/// probabilities and the age from the weighted mean of the expected ages. Frames
/// too poor to count add nothing, so a person seen only in poor frames stays unknown.
public struct PersonVote: Sendable, Equatable {
    /// The summed weights of the frames that voted (good frames count 1 each).
    public private(set) var weight = 0.0
    private var logOdds = 0.0
    private var groups = [Double](repeating: 0, count: AgeGroup.allCases.count)
    private var ages = 0.0

    public init() {}

    /// Adds one frame's observation, weighted by the quality of the view.
    public mutating func add(_ face: FaceObservation) {
        let weight = face.evidence.map { FaceQualityWeight.weight(of: $0.quality) } ?? 1
        guard weight > 0 else { return }
        let evidence = face.evidence ?? Self.evidence(from: face)
        self.weight += weight
        logOdds += weight * evidence.genderLogOdds
        for (index, probability) in evidence.ageGroupProbabilities.enumerated() where index < groups.count {
            groups[index] += weight * probability
        }
        ages += weight * face.age
    }

    /// The voted gender and the calibrated confidence of the likelier one.
    public var gender: (likely: Gender, confidence: Double)? {
        guard weight > 0 else { return nil }
        let mean = logOdds / weight
        return (mean >= 0 ? .male : .female, 1 / (1 + exp(-abs(mean))))
    }

    /// The voted age, its group and the probability mass in that group.
    public var age: (age: Double, group: AgeGroup, confidence: Double)? {
        guard weight > 0 else { return nil }
        let age = ages / weight
        let group = AgeGroup(age: age)
        return (age, group, groups[group.rawValue] / weight)
    }

    /// The answers that reach the thresholds, with at least one good frame's weight behind them.
    public func decided(_ thresholds: DecisionThresholds) -> (gender: Gender?, ageGroup: AgeGroup?) {
        guard weight >= FaceQualityWeight.minimumVoteWeight else { return (nil, nil) }
        let gender = self.gender.flatMap { $0.confidence >= thresholds.gender ? $0.likely : nil }
        let group = age.flatMap { $0.confidence >= thresholds.age ? $0.group : nil }
        return (gender, group)
    }

    /// Evidence rebuilt from an observation's summary (an observation made without it).
    static func evidence(from face: FaceObservation) -> FaceEvidence {
        let confidence = min(max(face.genderConfidence, 1e-6), 1 - 1e-6)
        let logOdds = log(confidence / (1 - confidence)) * (face.likelyGender == .male ? 1 : -1)
        var groups = [Double](
            repeating: (1 - face.ageConfidence) / Double(AgeGroup.allCases.count - 1), count: AgeGroup.allCases.count)
        groups[face.likelyAgeGroup.rawValue] = face.ageConfidence
        return FaceEvidence(
            genderLogOdds: logOdds, ageDistribution: [], ageGroupProbabilities: groups,
            quality: FaceQuality(width: Double(face.box.width), turn: nil, sharpness: .infinity))
    }
}

/// How much one frame's view of a face counts in a vote, from 0 (not at all) to 1
/// (a good view): the product of three ramps, on the face's width, on how far the
/// head is turned and on sharpness. The ramps are set wide, from the nets' inputs
/// (a 32 px gender chip, a 64 px age chip), not tuned: within the ranges of the
/// development faces and varied.mp4, single-frame accuracy shows no consistent
/// trend with any of the three, so they only take out views far outside them
/// (README, "Unknown, calibration and votes").
public enum FaceQualityWeight {
    /// Width in pixels: no weight at or below `widthPoor`, full from `widthGood`.
    public static let widthPoor = 24.0, widthGood = 56.0
    /// Turn (nose offset in eye distances): full up to `turnGood`, none from `turnPoor`.
    public static let turnGood = 0.25, turnPoor = 0.5
    /// Sharpness (Laplacian variance of the 64x64 chip): none at or below `sharpnessPoor`, full from `sharpnessGood`.
    public static let sharpnessPoor = 15.0, sharpnessGood = 60.0
    /// Below this a frame does not vote at all.
    public static let minimumFrameWeight = 0.1
    /// A vote needs at least this weight (one good frame) to decide anything.
    public static let minimumVoteWeight = 1.0

    public static func weight(of quality: FaceQuality) -> Double {
        let width = ramp(quality.width, from: widthPoor, to: widthGood)
        let turn = quality.turn.map { 1 - ramp($0, from: turnGood, to: turnPoor) } ?? 1
        let sharpness = ramp(quality.sharpness, from: sharpnessPoor, to: sharpnessGood)
        let weight = width * turn * sharpness
        return weight >= minimumFrameWeight ? weight : 0
    }

    static func ramp(_ value: Double, from low: Double, to high: Double) -> Double {
        min(1, max(0, (value - low) / (high - low)))
    }
}

/// Which faces of a frame continue which tracks, worked out before the faces are
/// classified: a face whose person is settled needs no classification.
public struct FrameMatch: Sendable {
    public let time: Double
    let boxes: [Box]
    /// For each face, the track it continues (nil: a new person).
    let tracks: [Int?]
    /// For each face: false when its person's answers are settled.
    public let needsClassification: [Bool]
}

/// Follows faces across analysed frames by box overlap and position only — no
/// face embeddings, no pixels — so that one person in view for a minute counts
/// once. A track's state lives only while the track does.
public struct FaceTracker {
    struct Track {
        var box: Box
        /// Pixels per second, from the last two sightings (zero until there are two).
        var velocity = Point(x: 0, y: 0)
        var firstSeen: Double
        var lastSeen: Double
        var frames: Int
        var vote = PersonVote()
        /// Set once the vote is settled: the face is no longer classified, but for checks.
        var settled = false
        /// Sightings since the face was last classified.
        var unclassified = 0
        /// The vote's weight when a check last contradicted it: settling again takes
        /// `settleAfter` more weight from there.
        var weightAtDoubt = 0.0
    }

    /// May change while tracks run (a remote change): applies from the next frame.
    public var settings: TrackingSettings
    private var tracks: [Track] = []

    public init(settings: TrackingSettings) {
        self.settings = settings
    }

    /// Tracks seen often enough to count as people and not yet ended.
    public var peopleInView: Int { tracks.filter { $0.frames >= settings.minTrackFrames }.count }

    /// Tracks running now (people and not yet confirmed faces), and those of them
    /// whose answers are not settled yet.
    public var tracked: Int { tracks.count }
    public var unsettled: Int { tracks.filter { !$0.settled }.count }

    /// Classifications skipped because the person was settled, since the tracker started.
    public private(set) var classificationsSaved = 0

    /// Feeds one analysed frame's faces, all classified; returns the visits that
    /// ended (tracks not seen for longer than the timeout, seen in enough frames to be people).
    public mutating func update(faces: [FaceObservation], at time: Double) -> [PersonVisit] {
        let match = match(boxes: faces.map(\.box), at: time)
        return update(match, observations: faces.map { Optional($0) })
    }

    /// Step one of a frame: matches its faces to the tracks and says which faces need classifying.
    public func match(boxes pixelBoxes: [PixelBox], at time: Double) -> FrameMatch {
        let boxes = pixelBoxes.map {
            Box(x: Double($0.x), y: Double($0.y), width: Double($0.width), height: Double($0.height))
        }
        // Candidate pairs, best first: overlap, or failing that nearness of centres.
        var pairs: [(score: Double, track: Int, face: Int)] = []
        for (t, track) in tracks.enumerated() {
            let elapsed = time - track.lastSeen
            var expected = track.box
            expected.x += track.velocity.x * elapsed
            expected.y += track.velocity.y * elapsed
            // A track seen once has no speed yet: give it more room.
            let gate = settings.maxCentreDistance * (track.frames == 1 ? 1.5 : 1)
            for (f, box) in boxes.enumerated() {
                let overlap = expected.intersectionOverUnion(box)
                if overlap >= settings.minOverlap {
                    pairs.append((1 + overlap, t, f))
                } else {
                    let dx = expected.centre.x - box.centre.x, dy = expected.centre.y - box.centre.y
                    let distance = (dx * dx + dy * dy).squareRoot() / max(expected.width, box.width, 1)
                    if distance <= gate { pairs.append((1 - distance / (gate + 1), t, f)) }
                }
            }
        }
        pairs.sort { $0.score > $1.score }
        var usedTracks = Set<Int>()
        var assigned = [Int?](repeating: nil, count: boxes.count)
        var byOverlap = [Bool](repeating: false, count: boxes.count)
        for pair in pairs where !usedTracks.contains(pair.track) && assigned[pair.face] == nil {
            usedTracks.insert(pair.track)
            assigned[pair.face] = pair.track
            byOverlap[pair.face] = pair.score >= 1
        }
        // Another face that could have continued the same track makes the match uncertain.
        let contested = Set(pairs.map(\.track).filter { track in pairs.filter { $0.track == track }.count > 1 })
        let needs = assigned.enumerated().map { face, track -> Bool in
            guard let track else { return true }
            let state = tracks[track]
            guard state.settled else { return true }
            return !byOverlap[face] || contested.contains(track) || state.unclassified + 1 >= settings.settledCheckEvery
        }
        return FrameMatch(time: time, boxes: boxes, tracks: assigned, needsClassification: needs)
    }

    /// Step two: records the frame. `observations` holds, per face of the match, its
    /// classification (nil where none was needed, or none could be made).
    public mutating func update(_ match: FrameMatch, observations: [FaceObservation?]) -> [PersonVisit] {
        let time = match.time
        for (f, box) in match.boxes.enumerated() {
            let observation = f < observations.count ? observations[f] : nil
            if observation == nil && !match.needsClassification[f] { classificationsSaved += 1 }
            guard let t = match.tracks[f] else {
                var track = Track(box: box, firstSeen: time, lastSeen: time, frames: 1)
                if let observation { track.vote.add(observation) }
                tracks.append(track)
                continue
            }
            let previous = tracks[t]
            let elapsed = time - previous.lastSeen
            if elapsed > 0 {
                tracks[t].velocity = Point(
                    x: (box.centre.x - previous.box.centre.x) / elapsed,
                    y: (box.centre.y - previous.box.centre.y) / elapsed)
            }
            tracks[t].box = box
            tracks[t].lastSeen = time
            tracks[t].frames += 1
            guard let observation else {
                tracks[t].unclassified += 1
                continue
            }
            tracks[t].unclassified = 0
            if tracks[t].settled {
                // A check: an answer sure of the other gender, or of another age group,
                // means the track may now follow someone else. Vote on.
                let settled = tracks[t].vote.decided(settings.decision)
                let otherGender =
                    observation.gender != nil && settled.gender != nil && observation.gender != settled.gender
                let otherAge =
                    observation.ageGroup.flatMap { group in
                        settled.ageGroup.map { abs(group.rawValue - $0.rawValue) > 1 }
                    } ?? false
                if otherGender || otherAge {
                    tracks[t].settled = false
                    tracks[t].weightAtDoubt = tracks[t].vote.weight
                }
            }
            tracks[t].vote.add(observation)
            if !tracks[t].settled {
                tracks[t].settled = Self.isSettled(tracks[t].vote, since: tracks[t].weightAtDoubt, settings: settings)
            }
        }
        let timeout = settings.trackTimeout
        return endTracks { time - $0.lastSeen > timeout }
    }

    static func isSettled(_ vote: PersonVote, since doubt: Double, settings: TrackingSettings) -> Bool {
        let weight = vote.weight - doubt
        guard settings.settleAfter > 0, weight >= settings.settleAfter else { return false }
        let decided = vote.decided(settings.decision)
        return (decided.gender != nil && decided.ageGroup != nil) || weight >= 3 * settings.settleAfter
    }

    /// Ends every track (at shutdown): returns the visits of those that count as people.
    public mutating func finishAll() -> [PersonVisit] { endTracks { _ in true } }

    private mutating func endTracks(where ended: (Track) -> Bool) -> [PersonVisit] {
        let minimum = settings.minTrackFrames
        let finished = tracks.filter(ended)
        tracks.removeAll(where: ended)
        return finished.filter { $0.frames >= minimum }.map { visit(of: $0) }
    }

    func visit(of track: Track) -> PersonVisit {
        let decided = track.vote.decided(settings.decision)
        var visit = PersonVisit(
            gender: decided.gender, age: track.vote.age?.age, ageGroup: decided.ageGroup,
            dwell: track.lastSeen - track.firstSeen, end: track.lastSeen)
        visit.likelyGender = track.vote.gender?.likely
        return visit
    }
}
