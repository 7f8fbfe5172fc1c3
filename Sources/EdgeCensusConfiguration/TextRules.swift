/// The shapes the configuration's text values must have, each with the sentence
/// that says so when a value has another.
enum TextRules {
    /// `device.id`: ASCII letters, digits, `-` and `_`, 1 to 64 of them: it becomes
    /// an MQTT topic level and part of Home Assistant's entity ids.
    static let longestDeviceID = 64

    static func deviceIDProblem(_ id: String) -> String? {
        guard id.utf8.count <= longestDeviceID else {
            return "is \(id.utf8.count) characters long; at most \(longestDeviceID)"
        }
        guard
            id.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            })
        else {
            return "may hold only ASCII letters, digits, '-' and '_' (it becomes an MQTT topic level)"
        }
        return nil
    }

    /// An MQTT topic prefix (MQTT 5 §4.7): levels separated by `/`, none empty, no
    /// wildcard (`#`, `+`), no NUL or control character, not starting with `$`
    /// (the broker's own topics), at most 256 bytes.
    static func topicPrefixProblem(_ prefix: String) -> String? {
        guard !prefix.isEmpty else { return "is empty; a topic prefix names at least one level, such as edgecensus" }
        guard prefix.utf8.count <= 256 else { return "is \(prefix.utf8.count) bytes long; at most 256" }
        guard !prefix.contains(where: { "#+".contains($0) }) else { return "may not contain MQTT wildcards (# or +)" }
        guard !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            return "may not contain NUL or control characters"
        }
        guard !prefix.hasPrefix("$") else {
            return "may not start with $ (topics starting with $ are the broker's own, such as $SYS)"
        }
        guard !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            return "has an empty level (a leading or trailing '/', or '//')"
        }
        return nil
    }

    /// A host name or address: no blank, NUL or control character, at most 253 bytes.
    static func hostProblem(_ host: String) -> String? {
        guard host.utf8.count <= 253 else { return "is \(host.utf8.count) bytes long; at most 253" }
        guard !host.unicodeScalars.contains(where: { $0.value <= 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            return "may not contain spaces, NUL or control characters"
        }
        return nil
    }

    /// A path that must be absolute (the service's working folder is not one to rely on).
    static func absolutePathProblem(_ path: String) -> String? {
        guard !path.isEmpty else { return "is empty; give an absolute path" }
        guard path.hasPrefix("/") else { return "'\(path)' is not an absolute path (it must start with /)" }
        return nil
    }
}
