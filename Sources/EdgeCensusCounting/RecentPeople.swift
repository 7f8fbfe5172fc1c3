/// The people of the windows that ended within a span (an hour) before now, as
/// published: a window whose total k-anonymity hid is counted as suppressed, never
/// added in (a sum over the hour would otherwise give the hidden number away to
/// anyone who subtracts the windows shown).
public struct RecentPeople: Sendable {
    public struct Total: Sendable, Equatable {
        public var people: Int
        public var windows: Int
        /// Windows in the span whose total was hidden (not in `people`).
        public var suppressedWindows: Int

        public init(people: Int, windows: Int, suppressedWindows: Int) {
            self.people = people
            self.windows = windows
            self.suppressedWindows = suppressedWindows
        }
    }

    public let span: Double
    private var windows: [(end: Double, people: Int?)] = []

    public init(span: Double = 3600) {
        self.span = span
    }

    /// Records a closed window: its end (Unix seconds) and its published total (nil: hidden).
    public mutating func record(end: Double, people: Int?) {
        windows.append((end, people))
        // Only the span is kept; windows arrive in order of their ends, more or less.
        if let first = windows.first, first.end < end - span { windows.removeAll { $0.end < end - span } }
    }

    /// The windows ending in (now - span, now].
    public func total(at now: Double) -> Total {
        var total = Total(people: 0, windows: 0, suppressedWindows: 0)
        for window in windows where window.end > now - span && window.end <= now {
            total.windows += 1
            if let people = window.people { total.people += people } else { total.suppressedWindows += 1 }
        }
        return total
    }

}
