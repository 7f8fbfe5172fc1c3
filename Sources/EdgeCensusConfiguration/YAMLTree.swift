import EdgeCensusSupport
import Yams

/// A YAML document as the configuration reads it: mappings with text keys, in order,
/// lists, and scalars that keep their text until a key's type says how to read them
/// (so that `id: 0123` is the string "0123" where a string is expected, and the
/// number 83 where a number is, as YAML 1.1 has it).
///
/// Yams parses the text (libyaml) into its node tree, composed without its regular
/// expression tag rules: those compile with `NSRegularExpression`, which keeps
/// ICU's code and data resident in the agent for as long as it runs (figures:
/// Tests/Bench/HISTORY.md).
/// The scalars are read here instead, by the rules Yams' own decoder follows.
indirect enum YAMLTree: Sendable, Equatable {
    case scalar(YAMLScalar)
    case sequence([YAMLTree])
    case mapping([YAMLEntry])

    /// The largest configuration text read (bytes): a configuration is a few KiB.
    static let largestText = 256 * 1024
    /// The most nodes a document may have once its aliases are expanded: an alias
    /// names a whole subtree, so a few hundred bytes of aliases of aliases can
    /// stand for billions of nodes.
    static let largestExpansion = 100_000
    /// The deepest nesting read (the configuration's is 4).
    static let deepestNesting = 64
    /// The longest value read (bytes): paths, ids and names are far shorter.
    static let longestText = 4096
    /// The tags a configuration may carry: none, `!` (text), and the core schema's.
    static let knownTags: Set<String> = [
        "", Tag.Name.nonSpecific.rawValue, Tag.Name.str.rawValue, Tag.Name.int.rawValue,
        Tag.Name.float.rawValue, Tag.Name.bool.rawValue, Tag.Name.null.rawValue,
        Tag.Name.seq.rawValue, Tag.Name.map.rawValue, Tag.Name.merge.rawValue,
    ]

    /// Parses YAML text; nil for a document with nothing in it.
    static func parse(_ text: String) throws(ConfigurationError) -> YAMLTree? {
        guard text.utf8.count <= largestText else {
            throw ConfigurationError(
                .tooLarge, key: "",
                problem: "the text is \(text.utf8.count) bytes, more than the \(largestText) a configuration may have")
        }
        // libyaml parses without recursion, but composing the tree recurses once per
        // level: the nesting is bounded before it starts.
        if let depth = YAMLNesting.exceeds(deepestNesting, in: text) {
            throw ConfigurationError(
                .tooLarge, key: "",
                problem:
                    "nested more than \(deepestNesting) levels deep (at line \(depth.line)); a configuration needs 4")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, Resolver.basic, Constructor.default)
        } catch {
            throw ConfigurationError(.syntax, key: "", problem: "not valid YAML: \(error)")
        }
        var budget = largestExpansion
        return try node.map { node throws(ConfigurationError) in try YAMLTree(node, path: [], budget: &budget) }
    }

    /// Decodes a value from the tree, reading each scalar as its key's type asks.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try YAMLTreeDecoder(tree: self, codingPath: []).decode(type)
    }

    /// The same tree with a merge patch (RFC 7386) laid over it: objects merge,
    /// `null` removes, anything else replaces. The patch's values are typed already
    /// (they came as JSON): a string stays a string, a number a number.
    func merging(patch: JSONValue) -> YAMLTree {
        guard case .object(let changes) = patch else { return YAMLTree(patch) }
        var entries: [YAMLEntry]
        if case .mapping(let existing) = self { entries = existing } else { entries = [] }
        for key in changes.keys.sorted() {
            let change = changes[key]!
            let index = entries.firstIndex { $0.key == key }
            if change == .null {
                if let index { entries.remove(at: index) }
            } else if let index {
                entries[index].value = entries[index].value.merging(patch: change)
            } else {
                entries.append(YAMLEntry(key: key, value: YAMLTree.mapping([]).merging(patch: change)))
            }
        }
        return .mapping(entries)
    }

    /// A typed value as a tree: strings as quoted scalars, numbers and booleans as
    /// plain ones spelt as JSON spells them.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .scalar(YAMLScalar(text: "null", isPlain: true, isTaggedString: false))
        case .string(let text): self = .scalar(YAMLScalar(text: text, isPlain: false, isTaggedString: true))
        case .bool, .int, .double: self = .scalar(YAMLScalar(text: value.json, isPlain: true, isTaggedString: false))
        case .array(let elements): self = .sequence(elements.map(YAMLTree.init))
        case .object(let members):
            self = .mapping(members.keys.sorted().map { YAMLEntry(key: $0, value: YAMLTree(members[$0]!)) })
        }
    }

    /// What the tree is, for an error message: `"high"`, `a list`, `a mapping`.
    var summary: String {
        switch self {
        case .scalar(let scalar): return scalar.isNull ? "nothing" : "\"\(scalar.text)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping (key: value)"
        }
    }

    var entries: [YAMLEntry]? {
        if case .mapping(let entries) = self { return entries }
        return nil
    }

    private init(_ node: Node, path: [String], budget: inout Int) throws(ConfigurationError) {
        budget -= 1
        guard budget >= 0 else {
            throw ConfigurationError(
                .tooLarge, key: path.joined(separator: "."),
                problem:
                    "more than \(Self.largestExpansion) values once its aliases (*name) are expanded; write the values out, or use fewer aliases of aliases"
            )
        }
        guard path.count <= Self.deepestNesting else {
            throw ConfigurationError(
                .tooLarge, key: path.prefix(8).joined(separator: ".") + "…",
                problem: "nested more than \(Self.deepestNesting) levels deep")
        }
        // The tag as written (Node.tag would resolve it, and Yams' Tag is a shared object).
        let tag: String
        switch node {
        case .scalar(let scalar): tag = scalar.tag.rawValue
        case .sequence(let sequence): tag = sequence.tag.rawValue
        case .mapping(let mapping): tag = mapping.tag.rawValue
        case .alias: tag = ""
        }
        guard Self.knownTags.contains(tag) else {
            throw ConfigurationError(
                .syntax, key: path.joined(separator: "."),
                problem:
                    "the tag \(tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst(18) : Substring(tag)) is not one a configuration uses (!!str, !!int, !!float, !!bool, !!null)"
            )
        }
        switch node {
        case .scalar(let scalar):
            guard scalar.string.utf8.count <= Self.longestText else {
                throw ConfigurationError(
                    .tooLarge, key: path.joined(separator: "."),
                    problem: "a value of \(scalar.string.utf8.count) bytes; at most \(Self.longestText)")
            }
            guard !scalar.string.unicodeScalars.contains("\u{0}") else {
                throw ConfigurationError(
                    .syntax, key: path.joined(separator: "."), problem: "a value holding a NUL character")
            }
            self = .scalar(
                YAMLScalar(
                    text: scalar.string,
                    isPlain: scalar.style == .plain || scalar.style == .any,
                    isTaggedString: tag == Tag.Name.str.rawValue || tag == Tag.Name.nonSpecific.rawValue))
        case .sequence(let sequence):
            var elements: [YAMLTree] = []
            for (index, element) in sequence.enumerated() {
                elements.append(try YAMLTree(element, path: path + [String(index)], budget: &budget))
            }
            self = .sequence(elements)
        case .mapping(let mapping):
            self = .mapping(try Self.entries(of: mapping, path: path, budget: &budget))
        case .alias:
            // The parser replaces every alias by the node it names.
            throw ConfigurationError(
                .syntax, key: path.joined(separator: "."), problem: "an alias (*name) that names no anchor (&name)")
        }
    }

    /// A mapping's entries with its merge keys (`<<: *defaults`) resolved as YAML 1.1
    /// says: the mapping's own keys win over merged ones, and in a list of merged
    /// mappings the earlier ones win over the later.
    private static func entries(of mapping: Node.Mapping, path: [String], budget: inout Int) throws(ConfigurationError)
        -> [YAMLEntry]
    {
        var own: [YAMLEntry] = []
        var merged: [YAMLEntry] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else {
                throw ConfigurationError(
                    .syntax, key: path.joined(separator: "."), problem: "a key must be text, not a list or a mapping")
            }
            let value = try YAMLTree(valueNode, path: path + [key.string], budget: &budget)
            guard key.string == "<<", key.style == .plain || key.style == .any else {
                own.append(YAMLEntry(key: key.string, value: value, line: key.mark.map { $0.line }))
                continue
            }
            let sources: [YAMLTree]
            switch value {
            case .mapping: sources = [value]
            case .sequence(let elements) where elements.allSatisfy({ $0.entries != nil }): sources = elements
            default:
                throw ConfigurationError(
                    .syntax, key: (path + ["<<"]).joined(separator: "."),
                    problem:
                        "a merge key takes a mapping or a list of mappings (`<<: *defaults`), found \(value.summary)")
            }
            for entry in sources.flatMap({ $0.entries! }) where !merged.contains(where: { $0.key == entry.key }) {
                merged.append(entry)
            }
        }
        return merged.filter { entry in !own.contains { $0.key == entry.key } } + own
    }
}

/// How deep a YAML text nests, estimated from its characters without parsing it
/// (an over-estimate, never an under-estimate, for the forms that nest on one
/// line): flow brackets, and block indicators (`- `, `? `, `key: `) that open a
/// level on the same line; indentation adds one level per step.
enum YAMLNesting {
    /// The first line at which the nesting passes `limit`, or nil.
    static func exceeds(_ limit: Int, in text: String) -> (line: Int, depth: Int)? {
        var flow = 0, line = 1
        var quote: UInt8? = nil
        var lineStart = true, indentation = 0, indicators = 0
        var previous: UInt8 = 10
        for byte in text.utf8 {
            if byte == 10 {
                line += 1
                lineStart = true
                indentation = 0
                indicators = 0
                if quote == 10 { quote = nil }  // the end of a comment; quoted text may go on
                previous = byte
                continue
            }
            if let open = quote {
                if byte == open && previous != UInt8(ascii: "\\") { quote = nil }
                previous = byte
                continue
            }
            switch byte {
            case UInt8(ascii: " ") where lineStart: indentation += 1
            case UInt8(ascii: "#") where previous == 32 || previous == 10 || lineStart:
                // A comment: the rest of the line is not YAML.
                quote = 10
            case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = byte; lineStart = false
            case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1; lineStart = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1); lineStart = false
            case UInt8(ascii: " ") where [UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":")].contains(previous):
                indicators += 1
            default: lineStart = false
            }
            let depth = flow + indicators + indentation / 2
            if depth > limit { return (line, depth) }
            previous = byte
        }
        return nil
    }
}

/// A mapping's entry.
struct YAMLEntry: Sendable, Equatable {
    var key: String
    var value: YAMLTree
    /// The key's line in the text (1-based), when it came from one.
    var line: Int? = nil

    /// Entries are equal by key and value; where they were written does not count.
    static func == (left: YAMLEntry, right: YAMLEntry) -> Bool { left.key == right.key && left.value == right.value }
}

extension YAMLTree {
    /// The line of the key at a dotted path (`mqtt.tls.ca_file`), or of the
    /// deepest part of it that is there.
    func line(of path: String) -> Int? {
        var tree = self
        var found: Int?
        for part in path.split(separator: ".") {
            switch tree {
            case .mapping(let entries):
                guard let entry = entries.last(where: { $0.key == part }) else { return found }
                found = entry.line ?? found
                tree = entry.value
            case .sequence(let elements):
                guard let index = Int(part), elements.indices.contains(index) else { return found }
                tree = elements[index]
            case .scalar:
                return found
            }
        }
        return found
    }

    /// The same tree without the key at a dotted path (nil when there is no such key).
    func removing(_ path: String) -> YAMLTree? {
        let parts = path.split(separator: ".").map(String.init)
        guard let first = parts.first else { return nil }
        switch self {
        case .mapping(var entries):
            guard let index = entries.lastIndex(where: { $0.key == first }) else { return nil }
            if parts.count == 1 {
                entries.removeAll { $0.key == first }
            } else {
                guard let inner = entries[index].value.removing(parts.dropFirst().joined(separator: ".")) else {
                    return nil
                }
                entries[index].value = inner
            }
            return .mapping(entries)
        case .sequence(var elements):
            guard let index = Int(first), elements.indices.contains(index) else { return nil }
            if parts.count == 1 {
                elements.remove(at: index)
            } else {
                guard let inner = elements[index].value(parts) else { return nil }
                elements[index] = inner
            }
            return .sequence(elements)
        case .scalar:
            return nil
        }
    }

    private func value(_ parts: [String]) -> YAMLTree? { removing(parts.dropFirst().joined(separator: ".")) }
}

/// A scalar's text and how it was written, which decide what it may be read as.
struct YAMLScalar: Sendable, Equatable {
    var text: String
    /// Not quoted nor a block: the only form that may be read as a number or as null.
    var isPlain: Bool
    /// Quoted, or tagged `!!str`: never read as true or false.
    var isTaggedString: Bool

    /// `~`, `null` or nothing, unquoted and not tagged as text.
    var isNull: Bool { isPlain && !isTaggedString && ["", "~", "null", "Null", "NULL"].contains(text) }

    /// `true`/`yes`/`on` and `false`/`no`/`off`, in any case, unquoted.
    var bool: Bool? {
        guard !isTaggedString else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// A whole number: decimal, `0x` hexadecimal, `0b` binary, `0o` or leading-zero
    /// octal, or base 60 (`1:30`), with `_` allowed between digits.
    var integer: Int? {
        guard isPlain, !isTaggedString else { return nil }
        let digits = text.filter { $0 != "_" }
        if digits == "0" { return 0 }
        let (negative, unsigned) = Self.sign(of: digits)
        for (prefix, radix) in [("0x", 16), ("0b", 2), ("0o", 8), ("0", 8)] where unsigned.hasPrefix(prefix) {
            return Int((negative ? "-" : "") + unsigned.dropFirst(prefix.count), radix: radix)
        }
        if unsigned.contains(":") {
            return Self.wholeBaseSixty(unsigned).map { negative ? -$0 : $0 }
        }
        return Int(digits)
    }

    /// True for a plain scalar that reads as a number, whole or not: an integer key
    /// given one that `integer` cannot hold is out of range, not of the wrong type.
    var isNumeric: Bool { double.map(\.isFinite) == true || integerText }

    /// Whole-number syntax (any size): digits, with a sign, radix prefix or base 60.
    private var integerText: Bool {
        guard isPlain, !isTaggedString else { return false }
        let (_, unsigned) = Self.sign(of: text.filter { $0 != "_" })
        let body =
            unsigned.hasPrefix("0x") || unsigned.hasPrefix("0o") || unsigned.hasPrefix("0b")
            ? unsigned.dropFirst(2) : unsigned
        return !body.isEmpty && body.allSatisfy { $0.isHexDigit || $0 == ":" }
    }

    /// `1:30:05` → 5405 in whole numbers, checked: nil when it does not fit an `Int`.
    private static func wholeBaseSixty(_ text: Substring) -> Int? {
        var total = 0
        for piece in text.split(separator: ":", omittingEmptySubsequences: false) {
            guard let value = Int(piece), value >= 0 else { return nil }
            let (shifted, overflowA) = total.multipliedReportingOverflow(by: 60)
            let (sum, overflowB) = shifted.addingReportingOverflow(value)
            guard !overflowA, !overflowB else { return nil }
            total = sum
        }
        return total
    }

    /// A number: decimal, with or without a fraction or exponent, base 60 (`1:30.5`),
    /// `.inf`, `-.inf` or `.nan`, with `_` allowed between digits (octal and binary
    /// are whole numbers only, as in Yams).
    var double: Double? {
        guard isPlain, !isTaggedString else { return nil }
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: break
        }
        let digits = text.filter { $0 != "_" }
        if digits.contains(":") {
            let (negative, unsigned) = Self.sign(of: digits)
            return Self.baseSixty(unsigned, { Double($0) }).map { negative ? -$0 : $0 }
        }
        return Double(digits)
    }

    /// `-12` → (true, "12"), `+12` and `12` → (false, "12").
    private static func sign(of digits: String) -> (negative: Bool, unsigned: Substring) {
        let negative = digits.hasPrefix("-")
        return (negative, negative || digits.hasPrefix("+") ? digits.dropFirst() : Substring(digits))
    }

    /// `1:30:05` → 5405, each part read by `part`.
    private static func baseSixty<N: Numeric>(_ text: Substring, _ part: (Substring) -> N?) -> N? {
        var total: N = 0
        for piece in text.split(separator: ":", omittingEmptySubsequences: false) {
            guard let value = part(piece) else { return nil }
            total = total * 60 + value
        }
        return total
    }
}

/// A number written where a whole number goes, too large for any integer: the
/// kind under the decoding error, so that a key with a range can say its own.
struct WholeNumberOutOfRange: Error {
    var text: String
}

/// What a mismatch expected, named for an error message.
enum YAMLShape {
    enum Mapping {}
    enum List {}
}

/// A `Decoder` over a `YAMLTree`: every scalar is read as the type asked for.
private struct YAMLTreeDecoder: Decoder, SingleValueDecodingContainer {
    let tree: YAMLTree
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let entries = tree.entries else { throw mismatch(YAMLShape.Mapping.self) }
        return KeyedDecodingContainer(KeyedContainer(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let elements) = tree else { throw mismatch(YAMLShape.List.self) }
        return UnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool {
        if case .scalar(let scalar) = tree { return scalar.isNull }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try scalar(as: type) { $0.text }
        case is Bool.Type: return try scalar(as: type) { $0.bool }
        case is Double.Type: return try scalar(as: type) { $0.double }
        case is Float.Type: return try scalar(as: type) { $0.double.map(Float.init) }
        case let integer as any FixedWidthInteger.Type:
            if case .scalar(let scalar) = tree, scalar.isNumeric,
                scalar.integer.flatMap({ integer.init(exactly: $0) }) == nil
            {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: codingPath,
                        debugDescription:
                            "\(scalar.text) is not a whole number in range (\(integer.min)…\(integer.max))",
                        underlyingError: WholeNumberOutOfRange(text: scalar.text)))
            }
            return try scalar(as: type) { scalar in scalar.integer.flatMap { integer.init(exactly: $0) } }
        default: return try T(from: self)
        }
    }

    func child(_ tree: YAMLTree, key: any CodingKey) -> YAMLTreeDecoder {
        YAMLTreeDecoder(tree: tree, codingPath: codingPath + [key])
    }

    private func scalar<T, V>(as type: T.Type, _ read: (YAMLScalar) -> V?) throws -> T {
        guard case .scalar(let scalar) = tree, let value = read(scalar) as? T else { throw mismatch(type) }
        return value
    }

    private func mismatch(_ expected: Any.Type) -> DecodingError {
        .typeMismatch(
            expected, DecodingError.Context(codingPath: codingPath, debugDescription: "found \(tree.summary)"))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: YAMLTreeDecoder
    let entries: [YAMLEntry]

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { entries.contains { $0.key == key.stringValue } }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try child(AnyKey(stringValue: "super")) }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }

    private func child(_ key: some CodingKey) throws -> YAMLTreeDecoder {
        guard let entry = entries.last(where: { $0.key == key.stringValue }) else {
            throw DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: codingPath, debugDescription: "no key \"\(key.stringValue)\""))
        }
        return decoder.child(entry.value, key: key)
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: YAMLTreeDecoder
    let elements: [YAMLTree]
    var currentIndex = 0

    init(decoder: YAMLTreeDecoder, elements: [YAMLTree]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func decodeNil() throws -> Bool {
        let isNull = try current().decodeNil()
        if isNull { currentIndex += 1 }
        return isNull
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try current().decode(type)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        let container = try current().container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try current().unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = try current()
        currentIndex += 1
        return decoder
    }

    private func current() throws -> YAMLTreeDecoder {
        let key = AnyKey(intValue: currentIndex)!
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self,
                DecodingError.Context(
                    codingPath: codingPath + [key], debugDescription: "the list has only \(elements.count) items"))
        }
        return decoder.child(elements[currentIndex], key: key)
    }
}
