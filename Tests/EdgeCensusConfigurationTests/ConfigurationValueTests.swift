import EdgeCensusConfiguration
import EdgeCensusSupport
import Foundation
import Testing

@Suite("Configuration values and merge patches")
struct ConfigurationValueTests {
    @Test("JSON keeps booleans, whole numbers and fractions apart")
    func parsesJSON() throws {
        let value = try JSONValue.parse(json: Data(#"{"a":true,"b":2,"c":2.5,"d":"x","e":null,"f":[1]}"#.utf8))
        #expect(
            value
                == .object([
                    "a": .bool(true), "b": .int(2), "c": .double(2.5), "d": .string("x"), "e": .null,
                    "f": .array([.int(1)]),
                ]))
    }

    @Test("a merge patch replaces values, merges objects and removes keys set to null (RFC 7386)")
    func mergePatch() throws {
        let base = try JSONValue.parse(
            yaml: "throttle: {max_rate_hz: 2, cpu_budget_percent: 80}\nwindows: {length: 60}\n")
        let patch = try JSONValue.parse(
            json: Data(#"{"throttle":{"max_rate_hz":1},"windows":{"length":null}}"#.utf8))
        let merged = base.merging(patch: patch)
        #expect(merged.value(at: "throttle.max_rate_hz") == .int(1))
        #expect(merged.value(at: "throttle.cpu_budget_percent") == .int(80))
        #expect(merged.value(at: "windows.length") == nil)
    }

    @Test("leaves are listed by dotted path")
    func leaves() throws {
        let value = try JSONValue.parse(
            json: Data(#"{"source":{"width":800,"height":600},"windows":{"k_anonymity":5}}"#.utf8))
        #expect(value.leaves.map(\.path) == ["source.height", "source.width", "windows.k_anonymity"])
        #expect(JSONValue.nested("a.b", .int(1)) == .object(["a": .object(["b": .int(1)])]))
    }
}
