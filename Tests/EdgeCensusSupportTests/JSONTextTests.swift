import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("JSON text: the one writer of the agent's documents")
struct JSONTextTests {
    @Test("object keys are written in byte order of their UTF-8, at every level", arguments: 1...4)
    func keysInByteOrder(seed: UInt64) throws {
        var generator = SplitMix(state: seed)
        let alphabet = Array("aAbBzZ0129 _-().:/~$é😀")
        var keys: Set<String> = ["(0-2)", "(4-6)", "(15-20)", "(60-100)", "unknown", "age_groups", "a_b", "aB", "Ab"]
        while keys.count < 300 {
            let length = Int(generator.next() % 7)
            keys.insert(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        let object = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.int(1)) }))
        let nested: JSONValue = ["outer": object, "b": [object]]
        for text in [JSONText.line(nested), JSONText.pretty(nested)] {
            let written = Self.keys(in: text)
            let expected =
                ["b"] + keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } + ["outer"]
                + keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(written == expected)
        }
        #expect(
            JSONText.line(["b": 1, "a": ["d": 1, "c": 2], "B": 3, "15-20": 4, "4-6": 5])
                == #"{"15-20":4,"4-6":5,"B":3,"a":{"c":2,"d":1},"b":1}"#)
    }

    @Test("whatever it writes reads back as the same value, line or indented", arguments: 1...6)
    func roundTrip(seed: UInt64) throws {
        var generator = SplitMix(state: seed)
        for _ in 0..<50 {
            let value = Self.randomValue(depth: 0, using: &generator)
            #expect(try JSONValue.parse(json: Data(JSONText.line(value).utf8)) == value)
            #expect(try JSONValue.parse(json: Data(JSONText.pretty(value).utf8)) == value)
            // And Foundation's own parser reads it too.
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(JSONText.line(value).utf8), options: .fragmentsAllowed))
                    != nil)
        }
    }

    @Test("strings are escaped as JSON says, and slashes are left alone")
    func strings() {
        #expect(
            JSONText.line("a/b \"q\" back\\slash\nnew\ttab\r\u{8}\u{C}\u{1}\u{1F} é 😀 \u{2028}")
                == #""a/b \"q\" back\\slash\nnew\ttab\r\b\f\u0001\u001f é 😀 \#u{2028}""#)
        #expect(JSONText.line("") == #""""#)
    }

    @Test("numbers: whole numbers as written, a Double as its shortest text without .0, nothing not finite")
    func numbers() {
        let cases: [(JSONValue, String)] = [
            (0, "0"), (-5, "-5"), (.int(Int.min), "-9223372036854775808"), (12.0, "12"), (-0.0, "-0"), (0.66, "0.66"),
            (1e-7, "1e-07"), (.double(0.1 + 0.2), "0.30000000000000004"), (123_456_789.125, "123456789.125"),
            (1e21, "1e+21"), (.double(.infinity), "null"), (.double(.nan), "null"), (true, "true"), (nil, "null"),
        ]
        for (value, text) in cases { #expect(JSONText.line(value) == text, "\(value)") }
    }

    @Test("indented text: two spaces a level, one member or element a line, empty ones closed at once")
    func pretty() {
        let value: JSONValue = ["b": [1, ["x": nil]], "a": [:], "c": []]
        #expect(
            JSONText.pretty(value) == """
                {
                  "a": {},
                  "b": [
                    1,
                    {
                      "x": null
                    }
                  ],
                  "c": []
                }
                """)
    }

    @Test("a counts document is one line whose members read back as the document, k-anonymity or not")
    func countsDocument() throws {
        var window = CountWindow(sequence: 41, start: 1_767_258_000, end: 1_767_258_060)
        for (index, age) in [1.0, 5, 10, 17, 28, 40, 50, 70, 30, 30, 31].enumerated() {
            let gender: Gender? = index % 3 == 0 ? nil : (index % 3 == 1 ? .female : .male)
            window.add(
                PersonVisit(
                    gender: gender, age: age, ageGroup: index == 8 ? nil : AgeGroup(age: age),
                    dwell: 1.25 * Double(index + 1), end: 0))
        }
        for k in [0, 3, 20] {
            let document = CountReport.document(window, device: "hall-1", kAnonymity: k)
            let line = CountReport.jsonLine(window, device: "hall-1", kAnonymity: k)
            #expect(!line.contains("\n") && line == JSONText.line(document))
            #expect(try JSONValue.parse(json: Data(line.utf8)) == document)
            #expect(line.hasPrefix(#"{"age_groups":{"(0-2)":"#))
        }
    }

    // MARK: - Helpers

    /// The keys of every object in the text, in the order written (keys are the
    /// strings followed by a colon).
    static func keys(in text: String) -> [String] {
        var keys: [String] = []
        var index = text.startIndex
        while let open = text[index...].firstIndex(of: "\"") {
            var close = text.index(after: open)
            while text[close] != "\"" {
                close = text.index(after: text[close] == "\\" ? text.index(after: close) : close)
            }
            let after = text[text.index(after: close)...].drop { $0 == " " }
            if after.first == ":" {
                keys.append(
                    (try? JSONValue.parse(json: Data(text[open...close].utf8))).flatMap {
                        if case .string(let key) = $0 { key } else { nil }
                    } ?? "?")
            }
            index = text.index(after: close)
        }
        return keys
    }

    static func randomValue(depth: Int, using generator: inout SplitMix) -> JSONValue {
        let pick = generator.next() % (depth > 3 ? 5 : 7)
        switch pick {
        case 0: return .null
        case 1: return .bool(generator.next() % 2 == 0)
        case 2: return .int(Int(truncatingIfNeeded: generator.next()) >> Int(generator.next() % 60))
        case 3:
            // A fraction, so that the number reads back as a double.
            return .double(Double(Int64(truncatingIfNeeded: generator.next()) >> 20) / 1024 + 0.5)
        case 4:
            let alphabet = Array("ab \"\\/\n\té😀\u{1}")
            return .string(String((0..<generator.next() % 8).map { _ in alphabet[Int(generator.next() % 11)] }))
        case 5:
            return .array((0..<generator.next() % 4).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<generator.next() % 4 {
                members["k\(index)\(generator.next() % 100)"] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(members)
        }
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
