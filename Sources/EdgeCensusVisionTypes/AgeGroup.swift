/// The eight age groups of the Adience benchmark, which Levi & Hassner's nets
/// predict and which EdgeCensus counts in.
public enum AgeGroup: Int, CaseIterable, Sendable, Comparable, Codable {
    case from0to2, from4to6, from8to12, from15to20, from25to32, from38to43, from48to53, from60to100

    /// The label exactly as the Adience benchmark and the seed write it.
    public var label: String {
        ["(0-2)", "(4-6)", "(8-12)", "(15-20)", "(25-32)", "(38-43)", "(48-53)", "(60-100)"][rawValue]
    }

    /// The group's ages, inclusive.
    public var range: ClosedRange<Int> {
        [0...2, 4...6, 8...12, 15...20, 25...32, 38...43, 48...53, 60...100][rawValue]
    }

    /// The middle of the group, used as the age when a net only names the group.
    public var midpoint: Double { Double(range.lowerBound + range.upperBound) / 2 }

    /// The group an age (in years, real-valued) falls in. The groups leave gaps
    /// (3, 7, 13–14, 21–24, 33–37, 44–47, 54–59); an age in a gap goes to the nearer
    /// group, the boundary being the middle of the gap (3, 7, 13.5, 22.5, 35, 45.5,
    /// 56.5), and an age exactly on a boundary goes to the older group.
    public init(age: Double) {
        var group = AgeGroup.from0to2
        for candidate in AgeGroup.allCases.dropFirst() where age >= candidate.lowerBoundary {
            group = candidate
        }
        self = group
    }

    /// Finds a group by its label, e.g. "(25-32)"; spaces are ignored.
    public init?(label: String) {
        let compact = label.filter { !$0.isWhitespace }
        guard let group = AgeGroup.allCases.first(where: { $0.label == compact }) else { return nil }
        self = group
    }

    /// Where this group starts on the real line: the middle of the gap below it.
    public var lowerBoundary: Double {
        guard let below = AgeGroup(rawValue: rawValue - 1) else { return -.infinity }
        return Double(below.range.upperBound + range.lowerBound) / 2
    }

    public static func < (lhs: AgeGroup, rhs: AgeGroup) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Gender as the classifiers report it.
public enum Gender: String, CaseIterable, Sendable, Codable {
    case male
    case female
}
