import EdgeCensusSupport
import Foundation
import Testing

/// The timestamps in every published document: RFC 3339, UTC, whole seconds.
@Suite("Internet date-times")
struct InternetTimeTests {
    @Test("an instant is written in UTC to the nearest second")
    func writes() {
        #expect(InternetTime.string(0) == "1970-01-01T00:00:00Z")
        #expect(InternetTime.string(1_795_947_300) == "2026-11-29T10:15:00Z")
        #expect(InternetTime.string(1_795_947_300.49) == "2026-11-29T10:15:00Z")
        #expect(InternetTime.string(1_795_947_300.5) == "2026-11-29T10:15:01Z")
        #expect(InternetTime.string(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(InternetTime.string(-1) == "1969-12-31T23:59:59Z")
    }

    @Test("it writes what Foundation's ISO8601DateFormatter writes, across leap years and month ends")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var instant = -86_400.0 * 400
        while instant < 4_200_000_000 {  // 1968 to 2103, about every 2.3 days at varying times of day
            #expect(InternetTime.string(instant) == formatter.string(from: Date(timeIntervalSince1970: instant)))
            instant += 198_007
        }
    }

    @Test("a date-time in UTC or with an offset reads back as the same instant")
    func reads() {
        #expect(InternetTime.seconds("2026-11-29T10:15:00Z") == 1_795_947_300)
        #expect(InternetTime.seconds("2026-11-29T11:15:00+01:00") == 1_795_947_300)
        #expect(InternetTime.seconds("2026-11-29T04:45:00-05:30") == 1_795_947_300)
        #expect(InternetTime.seconds("2026-11-29T10:15:00.25Z") == 1_795_947_300.25)
        #expect(InternetTime.seconds("2024-02-29T00:00:00Z") == 1_709_164_800)
        for instant in stride(from: 0.0, to: 4_000_000_000, by: 7_777_777) {
            #expect(InternetTime.seconds(InternetTime.string(instant)) == instant.rounded())
        }
    }

    @Test(
        "anything else is not a date-time",
        arguments: [
            "", "2026-11-29", "2026-11-29T10:15Z", "2026-11-29 10:15:00Z", "2026-11-29T10:15:00",
            "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-29T24:00:00Z",
            "2026-11-29T10:60:00Z", "2026-11-29T10:15:00+0100", "2026-11-29T10:15:00Z ", "2026-11-29T10:15:00.Z",
            "26-11-29T10:15:00Z", "tomorrow",
        ])
    func rejects(text: String) {
        #expect(InternetTime.seconds(text) == nil)
    }
}
