public import EdgeCensusSupport
import Foundation

/// One key of `edgecensus.yaml`: its dotted path, its type and range, what it
/// means, and what happens when it is changed over MQTT. The table of them
/// (`ConfigurationKeys.all`) is the only place a key is declared: parsing, the
/// remote change, the config-state schema, `edgecensus config keys`, the sample
/// file, the reference article and the man page all come from it. Its default is
/// its field's initial value in the settings type, read through the key path.
public struct ConfigurationKey: Sendable {
    /// What kind of value the key holds, with its range: for the parser and the documents.
    public enum Value: Sendable, Equatable {
        case number(ClosedRange<Double>)
        case wholeNumber(ClosedRange<Int>)
        case flag
        /// Free text: a path, a name; `rule` (in the parser) says what shape it must have.
        case text
        /// One word of a fixed list.
        case choice([String])
        /// A list of `count` numbers, each in the range.
        case numbers(count: Int, ClosedRange<Double>)
        /// An ISO 8601 time, or empty.
        case time
        /// A classifier: a mapping of its own fields (`ClassifierConfiguration.Field`).
        case classifier
    }

    /// What a change over MQTT (`config/set`) does.
    public enum RemoteEffect: String, Sendable, CaseIterable {
        /// Applied at once by the running agent.
        case live
        /// The capture is reopened with the new setting; counting goes on.
        case reopenCapture = "reopen_capture"
        /// Kept, and in force from the next start (`restart_required`).
        case restart
        /// Refused over MQTT: it can be changed only in the local file.
        case localOnly = "local_only"
    }

    /// Dotted path, as written in the file: `detection.confidence_threshold`.
    public let path: String
    public let value: Value
    /// The default, as JSON (also how the sample file writes it): the field's value in
    /// `AgentConfiguration()`.
    public let defaultValue: JSONValue
    /// What the default means where the value alone does not say it (an empty text).
    public let defaultNote: String?
    /// What the key does, in sentences; the range is added where it is shown.
    public let doc: String
    public let remote: RemoteEffect
    /// Reads the key's value in a configuration (what config-state reports).
    public let read: @Sendable (AgentConfiguration) -> JSONValue
    /// Reads the key from its section and sets it in the configuration, with every check.
    let decode: @Sendable (KeyedDecodingContainer<AnyKey>, inout AgentConfiguration) throws -> Void

    /// The last component of the path: the key's name in its section.
    public var name: String { String(path.split(separator: ".").last!) }
    /// The sections the key is in: `["mqtt", "tls"]` for `mqtt.tls.ca_file`.
    public var sections: [String] { path.split(separator: ".").dropLast().map(String.init) }
    public var isRemote: Bool { remote != .localOnly }

    /// The range or the values allowed, in words: "0.01 to 1", "camera, video or images".
    public var allowed: String? {
        switch value {
        case .number(let range):
            return "\(Self.number(range.lowerBound)) to \(Self.number(range.upperBound))"
        case .wholeNumber(let range): return "\(range.lowerBound) to \(range.upperBound)"
        case .numbers(let count, let range):
            return "\(count) numbers, each \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound))"
        case .choice(let words): return Self.either(words)
        case .flag: return "true or false"
        case .time: return "an ISO 8601 time such as 2026-01-01T08:00:00Z"
        case .text, .classifier: return nil
        }
    }

    /// The default as the sample file writes it.
    public var defaultText: String { ConfigurationReference.yamlScalar(defaultValue) }

    /// "a, b or c".
    static func either(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// A number as a person writes it: 1 rather than 1.0.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}

// MARK: - Kinds of keys

/// Where a key's value lives in the configuration.
typealias KeyField<Value> = any WritableKeyPath<AgentConfiguration, Value> & Sendable

extension ConfigurationKey {
    /// Makes a key whose value is read as `T` and then set with `set` after `check`.
    private static func make<T: Decodable & Sendable>(
        _ path: String, _ value: Value, _ type: T.Type, default defaultValue: JSONValue, note: String?,
        remote: RemoteEffect, doc: String, read: @escaping @Sendable (AgentConfiguration) -> JSONValue,
        set: @escaping @Sendable (inout AgentConfiguration, T, String) throws(ConfigurationError) -> Void
    ) -> ConfigurationKey {
        let name = String(path.split(separator: ".").last!)
        return ConfigurationKey(
            path: path, value: value, defaultValue: defaultValue, defaultNote: note, doc: doc, remote: remote,
            read: read,
            decode: { container, configuration in
                let key = AnyKey(stringValue: name)
                guard let found = try container.decodeIfPresent(T.self, forKey: key) else { return }
                try set(&configuration, found, path)
            })
    }

    /// A number in a range.
    static func number(
        _ path: String, _ field: KeyField<Double>,
        in range: ClosedRange<Double>, remote: RemoteEffect = .localOnly, _ doc: String
    ) -> ConfigurationKey {
        ranged(path, field, in: range, as: .number(range), remote: remote, doc)
    }

    /// A whole number in a range.
    static func wholeNumber(
        _ path: String, _ field: KeyField<Int>,
        in range: ClosedRange<Int>, remote: RemoteEffect = .localOnly, _ doc: String
    ) -> ConfigurationKey {
        ranged(path, field, in: range, as: .wholeNumber(range), remote: remote, doc)
    }

    /// A number of either kind, refused outside `range` with the range in the message.
    private static func ranged<Number: Decodable & Comparable & JSONConvertible & Sendable>(
        _ path: String, _ field: KeyField<Number>, in range: ClosedRange<Number>,
        as kind: Value, remote: RemoteEffect, _ doc: String
    ) -> ConfigurationKey {
        let name = String(path.split(separator: ".").last!)
        return ConfigurationKey(
            path: path, value: kind, defaultValue: AgentConfiguration()[keyPath: field].jsonValue, defaultNote: nil,
            doc: doc,
            remote: remote, read: { $0[keyPath: field].jsonValue },
            decode: { container, configuration in
                configuration[keyPath: field] = try container.decode(
                    AnyKey(stringValue: name), default: configuration[keyPath: field], in: range)
            })
    }

    /// true or false.
    static func flag(
        _ path: String, _ field: KeyField<Bool>, remote: RemoteEffect = .localOnly, _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .flag, Bool.self, default: .bool(AgentConfiguration()[keyPath: field]), note: nil, remote: remote,
            doc: doc, read: { .bool($0[keyPath: field]) },
            set: { configuration, found, _ in configuration[keyPath: field] = found })
    }

    /// Text that must pass `rule` (which returns the problem, or nil).
    static func text(
        _ path: String, _ field: KeyField<String>,
        note: String? = nil, remote: RemoteEffect = .localOnly,
        rule: (@Sendable (String) -> String?)? = nil, _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .text, String.self, default: .string(AgentConfiguration()[keyPath: field]), note: note,
            remote: remote, doc: doc,
            read: { .string($0[keyPath: field]) },
            set: { configuration, found, path throws(ConfigurationError) in
                if let problem = rule?(found) { throw ConfigurationError(key: path, problem: problem) }
                configuration[keyPath: field] = found
            })
    }

    /// Text where empty means "not set" (nil), checked by `rule` when it is not empty.
    static func optionalText(
        _ path: String, _ field: KeyField<String?>, note: String,
        rule: (@Sendable (String) -> String?)? = nil, _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .text, String.self, default: .string(""), note: note, remote: .localOnly, doc: doc,
            read: { .string($0[keyPath: field] ?? "") },
            set: { configuration, found, path throws(ConfigurationError) in
                if !found.isEmpty, let problem = rule?(found) { throw ConfigurationError(key: path, problem: problem) }
                configuration[keyPath: field] = found.isEmpty ? nil : found
            })
    }

    /// One word of an enumeration's raw values; `what` names it in the error ("a source").
    static func choice<Choice: RawRepresentable<String> & CaseIterable & Sendable>(
        _ path: String, _ field: KeyField<Choice>, what: String, remote: RemoteEffect = .localOnly, _ doc: String
    ) -> ConfigurationKey {
        let words = Choice.allCases.map(\.rawValue)
        return make(
            path, .choice(words), String.self, default: .string(AgentConfiguration()[keyPath: field].rawValue),
            note: nil, remote: remote, doc: doc,
            read: { .string($0[keyPath: field].rawValue) },
            set: { configuration, found, path throws(ConfigurationError) in
                guard let parsed = Choice(rawValue: found) else {
                    throw ConfigurationError(
                        key: path, problem: "'\(found.prefix(80))' is not \(what); expected \(either(words))")
                }
                configuration[keyPath: field] = parsed
            })
    }

    /// A list of `count` numbers, each in `range`; `meaning` names them ("B, G, R").
    static func numbers(
        _ path: String, _ field: KeyField<[Double]>, count: Int, each range: ClosedRange<Double>, meaning: String,
        _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .numbers(count: count, range), [Double].self,
            default: .array(AgentConfiguration()[keyPath: field].map { .double($0) }), note: nil,
            remote: .localOnly, doc: doc, read: { .array($0[keyPath: field].map { .double($0) }) },
            set: { configuration, found, path throws(ConfigurationError) in
                guard found.count == count else {
                    throw ConfigurationError(
                        key: path, problem: "expected \(count) numbers (\(meaning)), found \(found.count)")
                }
                guard found.allSatisfy({ range.contains($0) }) else {
                    throw ConfigurationError(
                        .outOfRange, key: path,
                        problem:
                            "\(found) has a value that is not a number from \(number(range.lowerBound)) to \(number(range.upperBound))"
                    )
                }
                configuration[keyPath: field] = found
            })
    }

    /// An ISO 8601 time kept as seconds since 1970; empty: not set.
    static func time(
        _ path: String, _ field: KeyField<Double?>, note: String, _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .time, String.self, default: .string(""), note: note, remote: .localOnly, doc: doc,
            read: { $0[keyPath: field].map { .string(InternetTime.string($0)) } ?? .string("") },
            set: { configuration, found, path throws(ConfigurationError) in
                guard !found.isEmpty else { return configuration[keyPath: field] = nil }
                guard let seconds = InternetTime.seconds(found) else {
                    throw ConfigurationError(
                        key: path,
                        problem: "'\(found.prefix(80))' is not an ISO 8601 time such as 2026-01-01T08:00:00Z")
                }
                configuration[keyPath: field] = seconds
            })
    }

    /// A classifier (`classification.gender`, `classification.age`): its own mapping of fields.
    static func classifier(
        _ path: String, _ field: KeyField<ClassifierConfiguration>, _ doc: String
    ) -> ConfigurationKey {
        make(
            path, .classifier, ClassifierConfiguration.self,
            default: .object(["preset": .string(AgentConfiguration()[keyPath: field].preset.rawValue)]),
            note: nil, remote: .localOnly, doc: doc, read: { .string($0[keyPath: field].preset.rawValue) },
            set: { configuration, found, _ in configuration[keyPath: field] = found })
    }
}

// MARK: - Reading a file with the table

extension ConfigurationKeys {
    /// What a section holds, in the table's order: keys, and sections below it.
    private enum Member {
        case key(ConfigurationKey)
        case section(String)
    }

    private static func members(of sections: [String]) -> [(name: String, member: Member)] {
        var seen: Set<String> = []
        var found: [(name: String, member: Member)] = []
        for key in all {
            let parts = key.path.split(separator: ".").map(String.init)
            guard parts.count > sections.count, Array(parts.prefix(sections.count)) == sections else { continue }
            let name = parts[sections.count]
            guard seen.insert(name).inserted else { continue }
            found.append((name, parts.count == sections.count + 1 ? .key(key) : .section(name)))
        }
        return found
    }

    /// Reads one section (the root first) into the configuration: refuses keys the
    /// table does not have there, then reads the keys present in the table's order.
    /// A section written with nothing under it (`motion:`) is the same as no section.
    static func decode(
        section sections: [String], from decoder: any Decoder, into configuration: inout AgentConfiguration
    )
        throws
    {
        if try decoder.singleValueContainer().decodeNil() { return }
        let members = members(of: sections)
        try decoder.rejectUnknownKeys(named: members.map(\.name))
        let container = try decoder.container(keyedBy: AnyKey.self)
        for (name, member) in members where container.contains(AnyKey(stringValue: name)) {
            switch member {
            case .key(let key):
                try key.decode(container, &configuration)
            case .section(let name):
                try decode(
                    section: sections + [name], from: container.superDecoder(forKey: AnyKey(stringValue: name)),
                    into: &configuration)
            }
        }
    }
}
