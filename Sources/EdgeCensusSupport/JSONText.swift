/// The agent's documents as compact JSON text: one line, keys sorted, slashes not
/// escaped. It writes, byte for byte, what `JSONSerialization` writes with
/// `[.sortedKeys, .withoutEscapingSlashes]` for the documents EdgeCensus makes
/// (ASCII keys), and does so without ICU: Foundation sorts the keys with a
/// locale-aware collator (numeric, case-insensitive), whose first use pages in
/// megabytes of ICU's code and collation data for the rest of the agent's life
/// (Tests/Bench/HISTORY.md).
///
/// Values: `[String: Any]`, `[Any]`, `String`, `Bool`, integers, `Double`, `Float`,
/// `NSNull`-like nulls (anything else that is none of these, and non-finite numbers,
/// are written as `null`).
public enum JSONText {
    /// One line of JSON.
    public static func line(_ value: Any) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    /// Whether key `a` comes before key `b`: the order of Foundation's `.sortedKeys`,
    /// which is ICU's root collation with numbers compared by value. Spaces, then
    /// punctuation (`_ - , ; : ! ? . ' " ( ) [ ] { } @ * / \ & # % ` ^ + < = > | ~ $`),
    /// then numbers by value (`(8-12)` before `(15-20)`), then letters whatever
    /// their case; a tie goes, at the first place that differs, to fewer leading
    /// zeros or to lower case, and then to the bytes.
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        let left = CollationKey(a), right = CollationKey(b)
        if left.primary != right.primary { return left.primary.lexicographicallyPrecedes(right.primary) }
        if left.tertiary != right.tertiary { return left.tertiary.lexicographicallyPrecedes(right.tertiary) }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func write(_ value: Any, to out: inout String) {
        switch value {
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted(by: keyPrecedes).enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(object[key]!, to: &out)
            }
            out += "}"
        case let array as [Any]:
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, to: &out)
            }
            out += "]"
        case let string as String: writeString(string, to: &out)
        case let bool as Bool: out += bool ? "true" : "false"
        case let integer as any BinaryInteger: out += "\(integer)"
        case let number as Double: out += number.isFinite ? shortest("\(number)") : "null"
        case let number as Float: out += number.isFinite ? shortest("\(number)") : "null"
        default: out += "null"
        }
    }

    /// `12.0` → `12`, as Foundation writes a whole number held in a Double.
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

    /// A key cut into what the collation compares, level by level.
    private struct CollationKey {
        /// Characters by rank; a run of digits as one element worth its value.
        var primary: [PrimaryElement] = []
        /// Per element, what breaks a tie: a number's count of digits (a leading zero
        /// makes it longer), a letter's case (upper after lower).
        var tertiary: [Int] = []

        init(_ key: String) {
            var digits = ""
            func endNumber() {
                guard !digits.isEmpty else { return }
                let value = digits.drop { $0 == "0" }
                primary.append(PrimaryElement(rank: Self.numberRank, number: String(value)))
                tertiary.append(digits.count)
                digits = ""
            }
            for scalar in key.unicodeScalars {
                if ("0"..."9").contains(scalar) {
                    digits.unicodeScalars.append(scalar)
                    continue
                }
                endNumber()
                if let rank = Self.punctuation.firstIndex(of: scalar) {
                    primary.append(PrimaryElement(rank: rank))
                    tertiary.append(0)
                } else if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) {
                    let lower = scalar.value | 0x20
                    primary.append(PrimaryElement(rank: Self.numberRank + 1 + Int(lower)))
                    tertiary.append(scalar.value == lower ? 0 : 1)
                } else {
                    primary.append(PrimaryElement(rank: Self.numberRank + 256 + Int(scalar.value)))
                    tertiary.append(0)
                }
            }
            endNumber()
        }

        /// Spaces and punctuation in the order of ICU's root collation.
        static let punctuation = Array(" _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$".unicodeScalars)
        static let numberRank = punctuation.count
    }

    private struct PrimaryElement: Comparable {
        var rank: Int
        /// For a number: its digits without leading zeros.
        var number = ""

        static func < (a: PrimaryElement, b: PrimaryElement) -> Bool {
            if a.rank != b.rank { return a.rank < b.rank }
            if a.number.count != b.number.count { return a.number.count < b.number.count }
            return a.number < b.number
        }
    }
}
