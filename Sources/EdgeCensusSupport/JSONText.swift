/// The one writer of JSON text in EdgeCensus: every document the agent publishes,
/// stores or prints is a `JSONValue` written here.
///
/// - Compact, one line (`line`), or indented by two spaces (`pretty`).
/// - Object keys in byte order of their UTF-8, at every level: `"0-2"`, `"15-20"`,
///   `"4-6"`, `"age_groups"`, `"device"`. JSON gives key order no meaning; byte order
///   is stable, the same on every platform and needs no collation tables (the order
///   before, Foundation's, was ICU's collation, whose first use maps megabytes:
///   Tests/Bench/HISTORY.md).
/// - Slashes not escaped; `"`, `\` and control characters escaped as JSON says.
/// - Whole numbers as written; a `Double` as Swift's shortest text that reads back
///   as the same number, without a trailing `.0` (`12`, `0.66`, `1e-07`); a number
///   that is not finite as `null`.
public enum JSONText {
    /// One line of JSON.
    public static func line(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: nil, to: &out)
        return out
    }

    /// JSON indented by two spaces, one member or element per line.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: "", to: &out)
        return out
    }

    /// Whether key `a` is written before key `b`: by the bytes of their UTF-8.
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func write(_ value: JSONValue, indent: String?, to out: inout String) {
        let inner = indent.map { $0 + "  " }
        let open = inner.map { "\n" + $0 } ?? ""
        let separator = inner.map { ",\n" + $0 } ?? ","
        let close = indent.map { "\n" + $0 } ?? ""
        switch value {
        case .object(let members):
            guard !members.isEmpty else { return out += "{}" }
            out += "{" + open
            for (index, key) in members.keys.sorted(by: keyPrecedes).enumerated() {
                if index > 0 { out += separator }
                writeString(key, to: &out)
                out += indent == nil ? ":" : ": "
                write(members[key]!, indent: inner, to: &out)
            }
            out += close + "}"
        case .array(let elements):
            guard !elements.isEmpty else { return out += "[]" }
            out += "[" + open
            for (index, element) in elements.enumerated() {
                if index > 0 { out += separator }
                write(element, indent: inner, to: &out)
            }
            out += close + "]"
        case .string(let string): writeString(string, to: &out)
        case .bool(let bool): out += bool ? "true" : "false"
        case .int(let integer): out += String(integer)
        case .double(let number): out += number.isFinite ? shortest("\(number)") : "null"
        case .null: out += "null"
        }
    }

    /// `12.0` → `12`: a whole number held in a Double is written as one.
    private static func shortest(_ text: String) -> String {
        text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    private static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
