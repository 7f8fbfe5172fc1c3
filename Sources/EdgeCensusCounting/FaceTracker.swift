public import EdgeCensusVision

/// How faces are followed from one analysed frame to the next.
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
    public init() {}
}

/// A person who has left the view: what the counts are made of. No box, no
/// image, no identifier: only the summary of their visit.
public struct PersonVisit: Sendable, Equatable {
    /// The majority of the genders seen.
    public var gender: Gender
    /// The median of the ages seen.
    public var age: Double
    public var ageGroup: AgeGroup
    /// Seconds between the first and the last frame the person was seen in.
    public var dwell: Double
    /// When the visit ended (last seen), on the agent's clock.
    public var end: Double

    public init(gender: Gender, age: Double, ageGroup: AgeGroup, dwell: Double, end: Double) {
        self.gender = gender
        self.age = age
        self.ageGroup = ageGroup
        self.dwell = dwell
        self.end = end
    }
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
        var genders: [Gender]
        var ages: [Double]
    }

    /// May change while tracks run (a remote change): applies from the next frame.
    public var settings: TrackingSettings
    private var tracks: [Track] = []

    public init(settings: TrackingSettings) {
        self.settings = settings
    }

    /// Tracks seen often enough to count as people and not yet ended.
    public var peopleInView: Int { tracks.filter { $0.frames >= settings.minTrackFrames }.count }

    /// Feeds one analysed frame's faces; returns the visits that ended (tracks not
    /// seen for longer than the timeout, seen in enough frames to be people).
    public mutating func update(faces: [FaceObservation], at time: Double) -> [PersonVisit] {
        let boxes = faces.map { Box(x: Double($0.box.x), y: Double($0.box.y), width: Double($0.box.width), height: Double($0.box.height)) }
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
        var usedTracks = Set<Int>(), usedFaces = Set<Int>()
        for pair in pairs where !usedTracks.contains(pair.track) && !usedFaces.contains(pair.face) {
            usedTracks.insert(pair.track)
            usedFaces.insert(pair.face)
            let previous = tracks[pair.track]
            let elapsed = time - previous.lastSeen
            if elapsed > 0 {
                tracks[pair.track].velocity = Point(x: (boxes[pair.face].centre.x - previous.box.centre.x) / elapsed,
                                                    y: (boxes[pair.face].centre.y - previous.box.centre.y) / elapsed)
            }
            tracks[pair.track].box = boxes[pair.face]
            tracks[pair.track].lastSeen = time
            tracks[pair.track].frames += 1
            tracks[pair.track].genders.append(faces[pair.face].gender)
            tracks[pair.track].ages.append(faces[pair.face].age)
        }
        for (f, face) in faces.enumerated() where !usedFaces.contains(f) {
            tracks.append(Track(box: boxes[f], firstSeen: time, lastSeen: time, frames: 1, genders: [face.gender], ages: [face.age]))
        }
        let timeout = settings.trackTimeout
        return endTracks { time - $0.lastSeen > timeout }
    }

    /// Ends every track (at shutdown): returns the visits of those that count as people.
    public mutating func finishAll() -> [PersonVisit] { endTracks { _ in true } }

    private mutating func endTracks(where ended: (Track) -> Bool) -> [PersonVisit] {
        let minimum = settings.minTrackFrames
        let finished = tracks.filter(ended)
        tracks.removeAll(where: ended)
        return finished.filter { $0.frames >= minimum }.map(Self.visit(of:))
    }

    static func visit(of track: Track) -> PersonVisit {
        let males = track.genders.filter { $0 == .male }.count
        // A tie goes to the most recent observation, usually the clearest view.
        let gender: Gender = males * 2 == track.genders.count ? track.genders.last! : (males * 2 > track.genders.count ? .male : .female)
        let sorted = track.ages.sorted()
        let middle = sorted.count / 2
        let age = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        return PersonVisit(gender: gender, age: age, ageGroup: AgeGroup(age: age), dwell: track.lastSeen - track.firstSeen,
                           end: track.lastSeen)
    }
}
