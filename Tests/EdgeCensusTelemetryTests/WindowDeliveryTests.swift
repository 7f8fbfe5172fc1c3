import EdgeCensusCounting
import EdgeCensusSupport
import Foundation
import Testing

@testable import EdgeCensusTelemetry

@Suite("Window delivery: a replayed window is the stored one, marked")
struct WindowDeliveryTests {
    static func stored(replayed: Bool = false) -> [UInt8] {
        var window = CountWindow(sequence: 41, start: 1_767_258_000, end: 1_767_258_060)
        window.people = 3
        return Array(TelemetryDocuments.counts(window, device: "hall", kAnonymity: 0, replayed: replayed).utf8)
    }

    @Test("the agent's own document: only the flag's bytes change, and it reads as the replayed document")
    func ownDocumentIsMarkedInPlace() throws {
        let stored = Self.stored()
        let (document, marked) = WindowDelivery.markedReplayed(stored)
        #expect(marked)
        #expect(document == String(decoding: Self.stored(replayed: true), as: UTF8.self))
        #expect(document.utf8.count == stored.count - 1)
        let same = zip(document.utf8, stored).prefix { $0 == $1 }.count
        #expect(String(decoding: stored[same...].prefix(5), as: UTF8.self) == "false")
        #expect(Array(document.utf8.suffix(stored.count - same - 5)) == Array(stored.suffix(stored.count - same - 5)))
    }

    @Test(
        "a record that is not one of the agent's documents is sent byte for byte as stored, and said unmarked",
        arguments: [
            "{\"seq\": 1, \"replayed\": false}", "{\"replayed\":false,\"inner\":{\"replayed\":false}}",
            "not json at all", "{\"replayed\":true}", "",
        ])
    func foreignRecordIsNotRewritten(text: String) {
        let (document, marked) = WindowDelivery.markedReplayed(Array(text.utf8))
        #expect(!marked)
        #expect(document == text)
    }
}
