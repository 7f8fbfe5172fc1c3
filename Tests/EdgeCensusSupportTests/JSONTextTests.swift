import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("JSON text of the agent's documents")
struct JSONTextTests {
    /// What Foundation writes for the same value, with the options the documents used.
    static func foundation(_ value: Any) throws -> String {
        String(
            decoding: try JSONSerialization.data(
                withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    @Test("a counts document is written byte for byte as JSONSerialization writes it, with and without k-anonymity")
    func countsDocuments() throws {
        var window = CountWindow(sequence: 41, start: 1_767_258_000, end: 1_767_258_060)
        for (index, age) in [1.0, 5, 10, 17, 28, 40, 50, 70, 30, 30, 31].enumerated() {
            let gender: Gender? = index % 3 == 0 ? nil : (index % 3 == 1 ? .female : .male)
            window.add(
                PersonVisit(
                    gender: gender, age: age, ageGroup: index == 8 ? nil : AgeGroup(age: age),
                    dwell: 1.25 * Double(index + 1), end: 0))
        }
        window.framesAnalysed = 120
        window.inView = 2
        for k in [0, 2, 3, 5, 20] {
            for replayed in [false, true] {
                let document = CountReport.document(window, device: "hall-1", kAnonymity: k, replayed: replayed)
                #expect(JSONText.line(document) == (try Self.foundation(document)), "k = \(k)")
                #expect(
                    CountReport.jsonLine(window, device: "hall-1", kAnonymity: k, replayed: replayed)
                        == JSONText.line(document))
            }
        }
        let empty = CountReport.document(CountWindow(sequence: 1, start: 0, end: 60), device: "d", kAnonymity: 3)
        #expect(JSONText.line(empty) == (try Self.foundation(empty)))
    }

    @Test("numbers, booleans, nulls and strings as Foundation writes them")
    func scalars() throws {
        let values: [Any] = [
            0, 1, -5, UInt64.max, Int64.min, 12.0, -0.0, 0.66, 1e-7, 2.5e-5, 123_456_789.125, 1e21, 0.1 + 0.2,
            100.0 / 3, Double(Int64.max), Float(0.1), Float(3), true, false, NSNull(), "",
            "a/b \"quoted\" back\\slash\nnew\ttab\r\u{8}\u{C}\u{1}\u{1F} é 😀 \u{2028}", [Any](), [String: Any](),
            [1, "x", NSNull(), [true]] as [Any],
        ]
        for value in values {
            #expect(JSONText.line(["k": value]) == (try Self.foundation(["k": value])), "\(value)")
        }
    }

    @Test("keys in Foundation's order: punctuation, numbers by value, letters in either case", arguments: 1...6)
    func keyOrder(seed: UInt64) throws {
        let fixed = [
            "(0-2)", "(4-6)", "(8-12)", "(15-20)", "(25-32)", "(38-43)", "(48-53)", "(60-100)", "unknown", "female",
            "male", "gender", "gender_age", "age_groups", "a-b", "a_b", "a b", "aB", "ab", "Ab", "a2", "a10", "a01",
            "a1",
            "window_end", "window_start", "", "_x", "x_", "k_anonymity", "frames_analysed", "x1.5", "x1.10", "~",
        ]
        var generator = SplitMix(state: seed)
        let alphabet = Array("aAbBzZ0129 _-().:/~$")
        var keys = Set(fixed)
        while keys.count < fixed.count + 400 {
            let length = Int(generator.next() % 7)
            keys.insert(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        let object = Dictionary(uniqueKeysWithValues: keys.map { ($0, 1 as Any) })
        #expect(JSONText.line(object) == (try Self.foundation(object)))
        let ours = keys.sorted(by: JSONText.keyPrecedes), theirs = keys.sorted(by: Self.foundationPrecedes)
        if let index = ours.indices.first(where: { ours[$0] != theirs[$0] }) {
            Issue.record(
                "ours: \(ours[max(0, index - 1)...].prefix(3)), Foundation's: \(theirs[max(0, index - 1)...].prefix(3))"
            )
        }
    }

    /// Foundation's order of two keys: which one its sorted output writes first.
    static func foundationPrecedes(_ a: String, _ b: String) -> Bool {
        guard a != b, let text = try? foundation([a: 1, b: 1]) else { return false }
        return text.hasPrefix(JSONText.line([a: 1]).dropLast(1) + ",")
    }

    /// A small seeded generator, so that a failure can be repeated.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
