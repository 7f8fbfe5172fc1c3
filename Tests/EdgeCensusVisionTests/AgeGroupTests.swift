import EdgeCensusVision
import Testing

@Suite("Adience age groups")
struct AgeGroupTests {
    @Test(
        "labels are exactly the seed's",
        arguments: zip(
            AgeGroup.allCases,
            ["(0-2)", "(4-6)", "(8-12)", "(15-20)", "(25-32)", "(38-43)", "(48-53)", "(60-100)"]))
    func labels(group: AgeGroup, label: String) {
        #expect(group.label == label)
        #expect(AgeGroup(label: label) == group)
    }

    /// Every boundary: the last age of a group, the gap, the middle of the gap (which
    /// goes to the older group), and the first age of the next group.
    @Test(
        "ages map to groups at every boundary",
        arguments: [
            (-1.0, AgeGroup.from0to2), (0, .from0to2), (2, .from0to2), (2.99, .from0to2), (3, .from4to6),
            (4, .from4to6),
            (6, .from4to6), (6.99, .from4to6), (7, .from8to12), (8, .from8to12),
            (12, .from8to12), (13, .from8to12), (13.49, .from8to12), (13.5, .from15to20), (14, .from15to20),
            (15, .from15to20),
            (20, .from15to20), (22.49, .from15to20), (22.5, .from25to32), (25, .from25to32),
            (32, .from25to32), (34.99, .from25to32), (35, .from38to43), (38, .from38to43),
            (43, .from38to43), (45.49, .from38to43), (45.5, .from48to53), (48, .from48to53),
            (53, .from48to53), (56.49, .from48to53), (56.5, .from60to100), (60, .from60to100),
            (100, .from60to100), (117, .from60to100),
        ])
    func boundaries(age: Double, expected: AgeGroup) {
        #expect(AgeGroup(age: age) == expected, "age \(age)")
    }

    @Test("a label with spaces is accepted, an unknown one is not")
    func labelParsing() {
        #expect(AgeGroup(label: " (25 - 32) ") == .from25to32)
        #expect(AgeGroup(label: "(21-24)") == nil)
    }
}
