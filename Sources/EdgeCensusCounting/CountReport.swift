public import EdgeCensusSupport
import EdgeCensusVisionTypes
import Foundation

/// Turns a window into the JSON document EdgeCensus publishes, applying
/// k-anonymity: a count below `k` (but above zero) is replaced by null and its
/// path listed in `suppressed`. Where one cell of a group (the genders, the age
/// groups, a gender's age groups) is suppressed and the group's total is shown,
/// the next-smallest non-zero cell is suppressed too, so that the hidden one
/// cannot be recovered by subtraction. People whose gender or age group the
/// agent was not sure enough of are counted in `unknown` cells: every person is
/// counted once in `gender`, once in `age_groups` and once in `gender_age`.
public enum CountReport {
    /// The version of the counts document; bumped on incompatible change
    /// (/2: the `unknown` cells; /3: `seq_epoch`).
    public static let schema = "edgecensus.counts/3"

    /// The window's `people` as published: nil when k-anonymity hides it (fewer than k, but some).
    public static func publishedPeople(_ window: CountWindow, kAnonymity k: Int) -> Int? {
        k > 1 && window.people > 0 && window.people < k ? nil : window.people
    }

    /// `replayed`: true when the window is sent again from the offline buffer rather than as it closes.
    public static func document(_ window: CountWindow, device: String, kAnonymity k: Int, replayed: Bool = false)
        -> JSONValue
    {
        var suppressed: [String] = []
        func cells<Key: Hashable>(
            _ keys: [Key], _ counts: [Key: Int], name: (Key) -> String, path: String,
            totalShown: Bool
        ) -> JSONValue {
            var hidden = Set<Key>()
            if k > 1 {
                for key in keys where (counts[key] ?? 0) > 0 && (counts[key] ?? 0) < k { hidden.insert(key) }
                if hidden.count == 1 && totalShown {
                    let candidates = keys.filter { !hidden.contains($0) && (counts[$0] ?? 0) > 0 }
                    if let next = candidates.min(by: { (counts[$0] ?? 0) < (counts[$1] ?? 0) }) { hidden.insert(next) }
                }
            }
            var result: [String: JSONValue] = [:]
            for key in keys {
                if hidden.contains(key) {
                    result[name(key)] = .null
                    suppressed.append("\(path).\(name(key))")
                } else {
                    result[name(key)] = .int(counts[key] ?? 0)
                }
            }
            return .object(result)
        }
        let peopleHidden = publishedPeople(window, kAnonymity: k) == nil
        if peopleHidden { suppressed.append("people") }
        let genders: [Gender?] = Gender.allCases + [nil], groups: [AgeGroup?] = AgeGroup.allCases + [nil]
        let genderName = { (gender: Gender?) in gender?.rawValue ?? "unknown" }
        let groupName = { (group: AgeGroup?) in group?.label ?? "unknown" }
        var byGender: [String: JSONValue] = [:]
        for gender in genders {
            let counts = window.genderAge[gender] ?? [:]
            let shown = !(k > 1 && (window.gender[gender] ?? 0) > 0 && (window.gender[gender] ?? 0) < k)
            byGender[genderName(gender)] = cells(
                groups, counts, name: groupName, path: "gender_age.\(genderName(gender))", totalShown: shown)
        }
        var document: [String: JSONValue] = [
            "schema": .string(schema),
            "device": .string(device),
            "seq": .int(Int(clamping: window.sequence)),
            "seq_epoch": .string(window.epoch),
            "window_start": .string(timestamp(window.start)),
            "window_end": .string(timestamp(window.end)),
            "people": peopleHidden ? .null : .int(window.people),
            "gender": cells(genders, window.gender, name: genderName, path: "gender", totalShown: !peopleHidden),
            "age_groups": cells(
                groups, window.ageGroups, name: groupName, path: "age_groups", totalShown: !peopleHidden),
            "gender_age": .object(byGender),
            "dwell_seconds": dwellSummary(window.dwells, hidden: peopleHidden),
            "in_view": .int(window.inView),
            "frames_analysed": .int(window.framesAnalysed),
            "frames_dropped": .int(window.framesDropped),
            "partial": .bool(window.partial),
            "replayed": .bool(replayed),
        ]
        if k > 1 {
            document["k_anonymity"] = .int(k)
            document["suppressed"] = .array(suppressed.sorted().map { .string($0) })
        }
        return .object(document)
    }

    /// The document as one line of JSON (`JSONText`: keys in byte order).
    public static func jsonLine(_ window: CountWindow, device: String, kAnonymity k: Int, replayed: Bool = false)
        -> String
    {
        JSONText.line(document(window, device: device, kAnonymity: k, replayed: replayed))
    }

    static func dwellSummary(_ dwells: [Double], hidden: Bool) -> JSONValue {
        guard !dwells.isEmpty, !hidden else { return ["mean": nil, "median": nil, "max": nil] }
        let sorted = dwells.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let round = { (value: Double) in (value * 10).rounded() / 10 }
        return [
            "mean": .double(round(sorted.reduce(0, +) / Double(sorted.count))), "median": .double(round(median)),
            "max": .double(round(sorted.last!)),
        ]
    }

    /// UTC, ISO 8601, whole seconds: 2026-11-29T10:15:00Z.
    public static func timestamp(_ unixSeconds: Double) -> String {
        InternetTime.string(unixSeconds)
    }
}
