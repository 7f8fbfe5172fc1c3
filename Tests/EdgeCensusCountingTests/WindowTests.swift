import EdgeCensusCounting
import EdgeCensusSupport
import EdgeCensusTestSupport
import EdgeCensusVisionTypes
import Foundation
import Testing

@Suite("Windows and sequence numbers")
struct WindowTests {
    static func visit(_ gender: Gender, age: Double = 30, dwell: Double = 5, end: Double = 0) -> PersonVisit {
        PersonVisit(gender: gender, age: age, ageGroup: AgeGroup(age: age), dwell: dwell, end: end)
    }

    static func counter() -> () throws -> WindowNumber {
        var next: UInt64 = 0
        return {
            next += 1; return WindowNumber(epoch: "0123456789abcdef", sequence: next)
        }
    }

    @Test("windows are aligned to the wall clock: a run starting at 10:00:37 has its first window end at 10:01:00")
    func alignment() throws {
        let start = 1_767_258_037.0  // 2026-01-01T09:00:37Z
        var aggregator = try WindowAggregator(length: 60, startingAt: start, nextNumber: Self.counter())
        #expect(aggregator.currentWindow.start == 1_767_258_000)
        #expect(aggregator.currentWindow.end == 1_767_258_060)
        #expect(try aggregator.advance(to: 1_767_258_059.999, inView: 0).isEmpty)
        let closed = try aggregator.advance(to: 1_767_258_060, inView: 2)
        #expect(closed.count == 1)
        #expect(closed.first?.inView == 2)
        #expect(CountReport.timestamp(closed[0].end) == "2026-01-01T09:01:00Z")
    }

    @Test("empty windows are still emitted, each with the next sequence number")
    func emptyWindows() throws {
        var aggregator = try WindowAggregator(length: 10, startingAt: 0, nextNumber: Self.counter())
        aggregator.add(Self.visit(.male))
        let closed = try aggregator.advance(to: 35, inView: 0)
        #expect(closed.map(\.people) == [1, 0, 0])
        #expect(closed.map(\.sequence) == [1, 2, 3])
        #expect(aggregator.currentWindow.sequence == 0)  // numbered when it closes
    }

    @Test(
        "a window lost with the process (crash, power cut) uses no number: the next run goes on from the last closed window"
    )
    func lostWindowLeavesNoGap() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        var first = try WindowAggregator(length: 10, startingAt: 0, nextNumber: SequenceStore(path: path, now: 0).next)
        #expect(try first.advance(to: 25, inView: 0).map(\.sequence) == [1, 2])
        // The process dies during window 20–30: that window never closes.
        var second = try WindowAggregator(
            length: 10, startingAt: 47, nextNumber: SequenceStore(path: path, now: 0).next)
        #expect(try second.advance(to: 50, inView: 0).map(\.sequence) == [3])
        #expect(try second.flush(at: 55, inView: 0).sequence == 4)
    }

    @Test("frames dropped during a long analysis are counted in the windows they were dropped in")
    func dropsByTime() throws {
        var aggregator = try WindowAggregator(length: 10, startingAt: 0, nextNumber: Self.counter())
        // One analysis ran from 5 s to 34 s while the camera kept delivering.
        aggregator.framesDropped(at: [6, 9, 12, 13, 14, 27, 31, 33])
        let closed = try aggregator.advance(to: 34, inView: 0)
        #expect(closed.map(\.framesDropped) == [2, 3, 1])
        #expect(aggregator.currentWindow.framesDropped == 2)
    }

    @Test(
        "the first window after a start in the middle of it is partial and keeps its aligned start; the next ones are whole"
    )
    func firstWindowAfterStartIsPartial() throws {
        var aggregator = try WindowAggregator(length: 20, startingAt: 1_000_011, nextNumber: Self.counter())
        #expect(aggregator.currentWindow.partial && aggregator.currentWindow.start == 1_000_000)
        let closed = try aggregator.advance(to: 1_000_045, inView: 0)
        #expect(closed.map(\.partial) == [true, false])
        #expect(closed.map(\.start) == [1_000_000, 1_000_020] && closed.map(\.end) == [1_000_020, 1_000_040])
        #expect(!aggregator.currentWindow.partial)
        // Started and stopped inside one window: partial at both ends.
        var short = try WindowAggregator(length: 20, startingAt: 1_000_003, nextNumber: Self.counter())
        let only = try short.flush(at: 1_000_009, inView: 0)
        #expect(only.partial && only.start == 1_000_000 && only.end == 1_000_009)
    }

    @Test("a start exactly on a window boundary gives a whole first window")
    func startOnBoundary() throws {
        var aggregator = try WindowAggregator(length: 20, startingAt: 1_000_000, nextNumber: Self.counter())
        #expect(!aggregator.currentWindow.partial)
        #expect(try aggregator.advance(to: 1_000_020, inView: 0).map(\.partial) == [false])
    }

    @Test("the partial window at shutdown ends at the shutdown time and says so")
    func partial() throws {
        var aggregator = try WindowAggregator(length: 60, startingAt: 120, nextNumber: Self.counter())
        aggregator.add(Self.visit(.female))
        let last = try aggregator.flush(at: 150, inView: 0)
        #expect(last.partial)
        #expect(last.end == 150)
        #expect(last.people == 1)
    }

    @Test("sequence numbers continue across a restart")
    func sequenceAcrossRestart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state/sequence")
        let first = SequenceStore(path: path, now: 0)
        #expect(first.next().sequence == 1)
        #expect(first.next().sequence == 2)
        let second = SequenceStore(path: path, now: 0)
        #expect(second.next().sequence == 3)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test(
        "a replacement cut short leaves a stray temporary file that is never read; the number in force is the last complete one"
    )
    func strayTemporarySequence() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        let first = SequenceStore(path: path, now: 0)
        for _ in 0..<5 { _ = first.next() }
        try writeFile(path + ".tmp", Data("9".utf8))  // torn: "9" of a "90\n" being written
        let reopened = SequenceStore(path: path, now: 0)
        #expect(reopened.lastUsed == 5 && reopened.recoveryNote == nil)
        #expect(reopened.next().sequence == 6)
    }

    @Test(
        "the sequence can be moved above numbers another state file remembers, never below, and that survives a restart"
    )
    func continueAfter() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        let store = SequenceStore(path: path, now: 0)
        #expect(store.continueAfter(41))
        #expect(!store.continueAfter(7))
        #expect(SequenceStore(path: path, now: 0).next().sequence == 42)
    }

    @Test("a damaged sequence file never makes numbers go back")
    func damagedSequence() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        try writeFile(path, Data("garbage\u{0}".utf8))
        let store = SequenceStore(path: path, now: 1_767_258_000)
        #expect(store.recoveryNote?.contains(path) == true)
        #expect(store.next().sequence == 1_767_258_001)
    }

    @Test(
        "a new window length applies from the next window, which runs to the next multiple of it: windows stay on the clock"
    )
    func lengthChange() throws {
        var aggregator = try WindowAggregator(length: 60, startingAt: 1_767_258_010, nextNumber: WindowTests.counter())
        aggregator.changeLength(to: 45)
        #expect(aggregator.currentWindow.end == 1_767_258_060)  // the current window keeps its length
        let closed = try aggregator.advance(to: 1_767_258_200, inView: 0)
        #expect(closed.map(\.end) == [1_767_258_060, 1_767_258_090, 1_767_258_135, 1_767_258_180])
        #expect(closed.map(\.sequence) == [1, 2, 3, 4])
        #expect(aggregator.currentWindow.start == 1_767_258_180 && aggregator.currentWindow.end == 1_767_258_225)
    }
}

@Suite("Counts document and k-anonymity")
struct CountReportTests {
    static func window() -> CountWindow {
        var window = CountWindow(sequence: 7, start: 1_767_258_000, end: 1_767_258_060)
        window.people = 7
        window.gender = [.male: 5, .female: 2]
        window.ageGroups = [.from25to32: 4, .from38to43: 2, .from60to100: 1]
        window.genderAge = [.male: [.from25to32: 3, .from38to43: 2], .female: [.from25to32: 1, .from60to100: 1]]
        window.dwells = [4, 10, 6, 30, 8, 12, 2]
        window.framesAnalysed = 120
        return window
    }

    @Test("every documented field is there, with exact numbers when k-anonymity is off")
    func fields() {
        let document = CountReport.document(Self.window(), device: "hall", kAnonymity: 0)
        #expect(document["schema"] == "edgecensus.counts/3")
        #expect(document["seq"] == 7)
        #expect(document["window_start"] == "2026-01-01T09:00:00Z")
        #expect(document["people"] == 7)
        #expect(document["gender"]?["female"] == 2)
        #expect(document["age_groups"]?["(60-100)"] == 1)
        #expect(document["dwell_seconds"]?["median"] == 8.0)
        #expect(document["suppressed"] == nil)
    }

    @Test("people whose gender or age group is unknown are counted in unknown cells, once in each breakdown")
    func unknownCells() {
        var window = CountWindow(sequence: 1, start: 0, end: 60)
        let visits = [
            PersonVisit(gender: .male, age: 30, ageGroup: .from25to32, dwell: 3, end: 10),
            PersonVisit(gender: nil, age: 41, ageGroup: .from38to43, dwell: 3, end: 20),
            PersonVisit(gender: .female, age: 50, ageGroup: nil, dwell: 3, end: 30),
            PersonVisit(gender: nil, age: nil, ageGroup: nil, dwell: 3, end: 40),
        ]
        for visit in visits { window.add(visit) }
        let document = CountReport.document(window, device: "hall", kAnonymity: 0)
        #expect(document["people"] == 4)
        let gender = document["gender"]
        #expect(gender?["unknown"] == 2 && gender?["male"] == 1 && gender?["female"] == 1)
        let ages = document["age_groups"]
        #expect(ages?["unknown"] == 2 && ages?["(38-43)"] == 1)
        let byGender = document["gender_age"]
        #expect(byGender?["unknown"]?["unknown"] == 1)
        #expect(byGender?["unknown"]?["(38-43)"] == 1)
        #expect(byGender?["female"]?["unknown"] == 1)
        // Every breakdown adds up to the people counted.
        func total(_ cells: JSONValue?) -> Int {
            cells?.object?.values.reduce(0) { sum, cell in
                if case .int(let count) = cell { return sum + count }
                return sum + total(cell)
            } ?? 0
        }
        for breakdown in [gender, ages, byGender] { #expect(total(breakdown) == 4) }
    }

    @Test(
        "with k = 3, cells of 1 and 2 are suppressed, and a lone suppressed cell takes its smallest neighbour with it")
    func kAnonymity() {
        let document = CountReport.document(Self.window(), device: "hall", kAnonymity: 3)
        let suppressed = document["suppressed"]?.array ?? []
        let gender = document["gender"]
        // female = 2 < 3 is hidden; male = 5 would reveal it (7 - 5), so it goes too.
        #expect(gender?["female"] == .null && gender?["male"] == .null)
        #expect(suppressed.contains("gender.female") && suppressed.contains("gender.male"))
        let ages = document["age_groups"]
        #expect(ages?["(25-32)"] == 4)
        #expect(ages?["(38-43)"] == .null && ages?["(60-100)"] == .null)
        #expect(ages?["(0-2)"] == 0)  // zero reveals nobody
        #expect(document["people"] == 7)
        #expect(document["k_anonymity"] == 3)
    }

    @Test("a window with fewer people than k hides the total and the dwell times")
    func smallWindow() {
        var window = CountWindow(sequence: 1, start: 0, end: 60)
        window.people = 1
        window.gender = [.female: 1]
        window.dwells = [12]
        let document = CountReport.document(window, device: "hall", kAnonymity: 5)
        #expect(document["people"] == .null)
        #expect(document["dwell_seconds"]?["max"] == .null)
        #expect(CountReport.jsonLine(window, device: "hall", kAnonymity: 5).contains("\"people\":null"))
    }
}
