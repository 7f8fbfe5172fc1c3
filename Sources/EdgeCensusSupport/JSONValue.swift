public import Foundation

/// A JSON value: what requests, answers and stored documents hold, parsed strictly
/// (`StrictJSON`). Configuration uses it as the tree that both YAML and JSON hold,
/// to merge a remote change over the local file (RFC 7386 JSON Merge Patch) before
/// the merged tree is decoded, with every check.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text strictly (`StrictJSON`: UTF-8, no duplicate keys, no trailing
    /// commas, finite numbers); a number with a fraction or exponent is a double,
    /// true and false are never numbers.
    public static func parse(json data: Data) throws -> JSONValue {
        try StrictJSON.parse([UInt8](data))
    }

    /// The dotted paths of every object in the tree (the root's members' objects and
    /// below), with their members: for requests that name a key with an object.
    public var objects: [(path: String, members: [String: JSONValue])] {
        guard case .object(let members) = self else { return [] }
        return members.keys.sorted().flatMap { key -> [(path: String, members: [String: JSONValue])] in
            guard case .object(let inner) = members[key]! else { return [] }
            return [(key, inner)] + members[key]!.objects.map { ("\(key).\($0.path)", $0.members) }
        }
    }

    /// One line of JSON text (`JSONText`: keys in byte order; also valid YAML).
    public var json: String { JSONText.line(self) }

    /// A value made of what an `Encodable` encodes to, read back strictly.
    public init(encoding value: some Encodable) throws {
        self = try Self.parse(json: try JSONEncoder().encode(value))
    }

    public var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// An object's member (nil when this is not an object or has no such member).
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// RFC 7386: members of an object patch replace, `null` removes, objects merge.
    public func merging(patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var result = object ?? [:]
        for (key, change) in changes {
            if change == .null {
                result[key] = nil
            } else {
                result[key] = (result[key] ?? .null).merging(patch: change)
            }
        }
        return .object(result)
    }

    /// The same tree without the objects left empty (a section whose every key was
    /// put back with `null`), so that the overrides name only keys really changed.
    public var withoutEmptyObjects: JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(
            members.compactMapValues { value in
                let pruned = value.withoutEmptyObjects
                if case .object(let inner) = pruned, inner.isEmpty { return nil }
                return pruned
            })
    }

    /// The dotted paths of the leaves (values that are not objects), with their values.
    public var leaves: [(path: String, value: JSONValue)] {
        guard case .object(let members) = self else { return [] }
        return members.keys.sorted().flatMap { key -> [(path: String, value: JSONValue)] in
            let value = members[key]!
            if case .object(let inner) = value, !inner.isEmpty {
                return value.leaves.map { ("\(key).\($0.path)", $0.value) }
            }
            return [(key, value)]
        }
    }

    /// The value at a dotted path, if any.
    public func value(at path: String) -> JSONValue? {
        var current = self
        for part in path.split(separator: ".") {
            guard let next = current.object?[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// An object holding `value` at the dotted `path`.
    public static func nested(_ path: String, _ value: JSONValue) -> JSONValue {
        path.split(separator: ".").reversed().reduce(value) { inner, part in .object([String(part): inner]) }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int.self) { self = .int(value); return }
        if let value = try? container.decode(Double.self) { self = .double(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// As JSON: `"fast"`, `5000`, `{"a":1}`.
    public var description: String { json }
}

/// Literals, so that a document is written as the JSON it is:
/// `["schema": "edgecensus.counts/3", "sequence": 7, "people": [...]]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// A Swift value with one obvious JSON form, so that a document can hold
/// `JSONValue(score.gender_accuracy)` (an optional becomes `null`).
public protocol JSONConvertible {
    var jsonValue: JSONValue { get }
}

extension JSONValue: JSONConvertible {
    public var jsonValue: JSONValue { self }

    public init(_ value: some JSONConvertible) { self = value.jsonValue }
}

extension Int: JSONConvertible { public var jsonValue: JSONValue { .int(self) } }
extension Double: JSONConvertible { public var jsonValue: JSONValue { .double(self) } }
extension Float: JSONConvertible { public var jsonValue: JSONValue { .double(Double(self)) } }
extension String: JSONConvertible { public var jsonValue: JSONValue { .string(self) } }
extension Bool: JSONConvertible { public var jsonValue: JSONValue { .bool(self) } }
extension Array: JSONConvertible where Element: JSONConvertible {
    public var jsonValue: JSONValue { .array(map(\.jsonValue)) }
}
extension Dictionary: JSONConvertible where Key == String, Value: JSONConvertible {
    public var jsonValue: JSONValue { .object(mapValues(\.jsonValue)) }
}
extension Optional: JSONConvertible where Wrapped: JSONConvertible {
    public var jsonValue: JSONValue { map(\.jsonValue) ?? .null }
}
