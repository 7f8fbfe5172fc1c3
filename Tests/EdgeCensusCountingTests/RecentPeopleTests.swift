import EdgeCensusCounting
import Testing

/// The last hour's people that health reports carry, as published.
@Suite("People in the last hour")
struct RecentPeopleTests {
    @Test("windows that ended within the hour before now are added; older ones and later ones are not")
    func span() {
        var recent = RecentPeople()
        recent.record(end: 1000, people: 4)
        recent.record(end: 3000, people: 5)
        recent.record(end: 4500, people: 6)
        #expect(recent.total(at: 4500) == .init(people: 15, windows: 3, suppressedWindows: 0))
        #expect(recent.total(at: 4600) == .init(people: 11, windows: 2, suppressedWindows: 0))
        #expect(recent.total(at: 6700) == .init(people: 6, windows: 1, suppressedWindows: 0))
        #expect(recent.total(at: 8099) == .init(people: 6, windows: 1, suppressedWindows: 0))
        #expect(recent.total(at: 8100) == .init(people: 0, windows: 0, suppressedWindows: 0))
        #expect(recent.total(at: 2000) == .init(people: 4, windows: 1, suppressedWindows: 0))
    }

    @Test("a window whose total k-anonymity hid is counted as hidden, never added in")
    func hidden() {
        var recent = RecentPeople()
        var window = CountWindow(sequence: 1, start: 0, end: 60)
        window.people = 2
        recent.record(end: window.end, people: CountReport.publishedPeople(window, kAnonymity: 3))
        window.people = 7
        recent.record(end: 120, people: CountReport.publishedPeople(window, kAnonymity: 3))
        window.people = 0
        recent.record(end: 180, people: CountReport.publishedPeople(window, kAnonymity: 3))
        #expect(recent.total(at: 200) == .init(people: 7, windows: 3, suppressedWindows: 1))
    }
}
