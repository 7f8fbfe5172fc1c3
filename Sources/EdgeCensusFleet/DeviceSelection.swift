import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which devices a fleet command addresses: those of a survey whose id matches a
/// shell pattern (`hall-*`, `shop-[0-9][0-9]`, `*`), or the ids listed in a file
/// (one per line; blank lines and `#` comments ignored).
public enum DeviceSelection: Sendable, Equatable {
    case pattern(String)
    case list([String])

    public struct Unreadable: Error, CustomStringConvertible {
        public var file: String
        public var problem: String
        public var description: String { "cannot read the device list \(file): \(problem)" }
    }

    /// The ids in a device list file, in order, without repeats.
    public static func list(fromFile file: String) throws(Unreadable) -> DeviceSelection {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Unreadable(file: file, problem: "no such file, or not UTF-8 text")
        }
        var seen = Set<String>(), ids: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let id = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { continue }
            guard !id.contains("/"), !id.contains("+"), !id.contains("#"), !id.contains(" ") else {
                throw Unreadable(file: file, problem: "'\(id)' is not a device id (no '/', '+', '#' or spaces)")
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        guard !ids.isEmpty else { throw Unreadable(file: file, problem: "it lists no device") }
        return .list(ids)
    }

    public func matches(_ device: String) -> Bool {
        switch self {
        case .pattern(let pattern): fnmatch(pattern, device, 0) == 0
        case .list(let ids): ids.contains(device)
        }
    }

    /// The devices addressed: for a pattern, those of `known` (a survey) that match;
    /// for a list, the list itself, whether the broker knows them or not (a device
    /// that never connected is then reported as not answering).
    public func devices(known: [String]) -> [String] {
        switch self {
        case .pattern: known.filter(matches)
        case .list(let ids): ids
        }
    }
}
