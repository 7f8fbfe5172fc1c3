/// A coding key made from any string, to list the keys a mapping really has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Refuses keys that the section does not define: a misspelt key must not be
    /// silently ignored (it would leave the default in force without a word).
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ known: Keys.Type) throws {
        try rejectUnknownKeys(named: Keys.allCases.map(\.stringValue))
    }

    func rejectUnknownKeys(named known: [String]) throws {
        let present = try container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        let allowed = Set(known)
        if let unknown = present.first(where: { !allowed.contains($0) }) {
            let path = (codingPath.map(\.stringValue) + [unknown]).joined(separator: ".")
            throw ConfigurationError(
                .unknownKey, key: path,
                problem: "unknown key; allowed here: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes an optional value and checks it lies in `range`.
    func decode<T: Decodable & Comparable>(_ key: Key, default value: T, in range: ClosedRange<T>) throws -> T {
        let decoded: T?
        do {
            decoded = try decodeIfPresent(T.self, forKey: key)
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is WholeNumberOutOfRange {
            // Too large for any integer: say the key's own range.
            let found = (context.underlyingError as? WholeNumberOutOfRange)?.text ?? "the value"
            throw ConfigurationError(
                .outOfRange, key: path(key),
                problem: "\(found) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        guard let decoded else { return value }
        guard range.contains(decoded) else {
            let path = (codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw ConfigurationError(
                .outOfRange, key: path,
                problem: "\(decoded) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return decoded
    }

    func path(_ key: Key) -> String { (codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".") }
}
