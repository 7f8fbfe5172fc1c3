public import EdgeCensusConfiguration
import EdgeCensusStorage
public import EdgeCensusSupport
import Foundation

/// The configuration in force: the local file, with the changes operators made
/// over MQTT laid over it. Those changes live in `<state.directory>/remote-config.json`
/// (`{"config_version": N, "overrides": {...}}`), replaced atomically, so that a
/// change survives a restart and a power cut in the middle of writing leaves the
/// old or the new set, never a broken one.
///
/// A request is checked whole before anything changes: the JSON, its size, the
/// version it was based on, that every key may be changed remotely, and then the
/// merged configuration with every check the local file gets. All of it is applied,
/// or none of it.
public struct RemoteConfiguration: Sendable {
    /// Requests larger than this are refused unread.
    public static let maximumRequestBytes = 16 * 1024
    public static let fileName = "remote-config.json"

    public let localFile: String?
    public let overridesFile: String
    /// The local file, to lay the overrides over.
    private let base: ConfigurationFile
    public private(set) var overrides: JSONValue
    public private(set) var version: Int
    public private(set) var effective: AgentConfiguration
    /// What was wrong with the overrides file at start, if anything, and what was kept.
    public private(set) var loadNote: String?

    /// Reads the local file (nil: defaults only) and the overrides kept in its state directory.
    public init(localFile: String?) throws(ConfigurationError) {
        self.init(
            base: try localFile.map { path throws(ConfigurationError) in try ConfigurationFile(path: path) }
                ?? ConfigurationFile())
    }

    private init(base: ConfigurationFile) {
        let local = base.configuration
        localFile = base.path
        self.base = base
        overridesFile = local.stateDirectory + "/" + Self.fileName
        overrides = .object([:])
        version = 0
        effective = local
        let data: Data
        do {
            data = Data(try BoundedTextFile.read(overridesFile, limit: 4 * Self.maximumRequestBytes).utf8)
        } catch {
            if error.kind != .missing {
                loadNote =
                    "\(overridesFile): \(error); the remote changes in it are not applied (the local configuration is in force; the file is kept until the next accepted change)"
            }
            return
        }
        do {
            let saved = try JSONValue.parse(json: data)
            guard case .int(let savedVersion)? = saved.object?["config_version"], let kept = saved.object?["overrides"],
                kept.object != nil
            else {
                throw ConfigurationError(key: "", problem: "expected {\"config_version\": N, \"overrides\": {...}}")
            }
            version = savedVersion
            // Only the keys that may be changed remotely: anything else (device.id,
            // mqtt.host, state.directory, …) would let one file reroute the device.
            var allowed = kept
            let foreign = kept.leaves.map(\.path).filter { ConfigurationKeys.remoteKey($0) == nil }
            for path in foreign { allowed = allowed.merging(patch: .nested(path, .null)).withoutEmptyObjects }
            let merged = try base.applying(allowed)
            overrides = allowed
            effective = merged
            if !foreign.isEmpty {
                loadNote =
                    "\(overridesFile) names \(foreign.joined(separator: ", ")), which cannot be changed remotely: ignored, the local configuration is in force for \(foreign.count == 1 ? "it" : "them") (the other remote changes in the file apply)"
            }
        } catch {
            loadNote =
                "\(overridesFile): \(error); the remote changes in it are not applied (the local configuration is in force; the file is kept until the next accepted change)"
        }
    }

    /// A change that passed every check, ready to commit.
    public struct Change: Sendable {
        public var transaction: JSONValue?
        /// The keys the request set (null: back to the local file's value).
        public var applied: JSONValue
        public var overrides: JSONValue
        public var configuration: AgentConfiguration
        public var restartRequired: [String]
        public var reopenCapture: Bool
    }

    /// A refused request, saying why; nothing was changed.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var transaction: JSONValue?
        public var reason: String
        public var description: String { reason }

        public init(transaction: JSONValue? = nil, reason: String) {
            self.transaction = transaction
            self.reason = reason
        }
    }

    /// Checks a `config/set` payload against the configuration in force.
    public func evaluate(_ payload: [UInt8], retained: Bool) -> Result<Change, Refusal> {
        guard payload.count <= Self.maximumRequestBytes else {
            return .failure(
                Refusal(
                    reason: "the request is \(payload.count) bytes; at most \(Self.maximumRequestBytes) are accepted"))
        }
        let request: JSONValue
        do {
            request = try JSONValue.parse(json: Data(payload))
        } catch {
            return .failure(
                Refusal(
                    reason:
                        "the request is not valid JSON (\(Self.describe(error))); expected an object such as {\"throttle\": {\"max_rate_hz\": 1}}"
                ))
        }
        guard var members = request.object else {
            return .failure(
                Refusal(
                    reason:
                        "the request is \(request), not a JSON object; expected an object such as {\"throttle\": {\"max_rate_hz\": 1}}"
                ))
        }
        let transaction = members.removeValue(forKey: "transaction")
        func refuse(_ reason: String) -> Result<Change, Refusal> {
            .failure(Refusal(transaction: transaction, reason: reason))
        }
        if retained {
            return refuse(
                "a retained config/set message is never applied (it would apply itself again on every reconnect); clear it (publish an empty retained message to the same topic) and publish the change without the retain flag"
            )
        }
        if let expected = members.removeValue(forKey: "config_version") {
            guard case .int(let number) = expected else {
                return refuse("config_version = \(expected): expected a whole number")
            }
            guard number == version else {
                return refuse(
                    "config_version \(number) is stale: the configuration is at version \(version) now; read config/state and send the change again"
                )
            }
        }
        let patch = JSONValue.object(members)
        for (path, inner) in patch.objects {
            if ConfigurationKeys.remoteKey(path) != nil {
                return refuse("\(path) = \(JSONValue.object(inner)): expected a value, not an object")
            }
            if inner.isEmpty {
                return refuse(
                    "\(path) = {}: an empty object changes nothing; name the keys to change, or give null to put a key back"
                )
            }
        }
        for (path, value) in patch.leaves {
            guard ConfigurationKeys.remoteKey(path) != nil else {
                // Unknown to the schema altogether, or known but local only?
                if case .failure(let error) = Result(catching: {
                    try base.applying(.nested(path, value))
                }),
                    let error = error as? ConfigurationError, error.kind == .unknownKey
                {
                    return refuse("\(error.key): unknown key")
                }
                return refuse(
                    "\(path) can be changed only in the local configuration file\(localFile.map { " (\($0))" } ?? ""); the keys that can be changed remotely are \(ConfigurationKeys.remote.map(\.path).joined(separator: ", "))"
                )
            }
        }
        let overrides = self.overrides.merging(patch: patch).withoutEmptyObjects
        let configuration: AgentConfiguration
        do {
            configuration = try base.applying(overrides)
        } catch {
            let value = patch.value(at: error.key).map { " = \($0)" } ?? ""
            return refuse("\(error.key)\(value): \(error.problem)")
        }
        let changed = patch.leaves.map(\.path).filter {
            ConfigurationKeys.remoteKey($0)!.read(configuration) != ConfigurationKeys.remoteKey($0)!.read(effective)
        }
        return .success(
            Change(
                transaction: transaction, applied: patch, overrides: overrides, configuration: configuration,
                restartRequired: changed.filter { ConfigurationKeys.remoteKey($0)?.remote == .restart },
                reopenCapture: changed.contains { ConfigurationKeys.remoteKey($0)?.remote == .reopenCapture }))
    }

    /// Persists the change (atomically), then makes it the configuration in force.
    /// A request that changes nothing keeps the version.
    public mutating func commit(_ change: Change) throws {
        guard change.overrides != overrides else { return }
        let next = version + 1
        let document = JSONValue.object(["config_version": .int(next), "overrides": change.overrides])
        try FileManager.default.createDirectory(
            atPath: (overridesFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.replace(overridesFile, with: document.json + "\n")
        version = next
        overrides = change.overrides
        effective = change.configuration
        loadNote = nil
    }

    /// `config/state`: the version and the effective value of every remote key.
    public var stateDocument: String {
        JSONValue.object([
            "schema": .string("edgecensus.config-state/1"), "config_version": .int(version),
            "config": ConfigurationKeys.remoteValues(of: effective), "overrides": overrides,
        ]).json
    }

    /// `config/result` for an accepted change (after `commit`).
    public func resultDocument(for change: Change) -> String {
        var document: [String: JSONValue] = [
            "status": .string("ok"), "applied": change.applied, "config_version": .int(version),
            "restart_required": .array(change.restartRequired.map { .string($0) }),
        ]
        document["transaction"] = change.transaction
        return JSONValue.object(document).json
    }

    /// `config/result` for a refused request.
    public func resultDocument(for refusal: Refusal) -> String {
        var document: [String: JSONValue] = [
            "status": .string("error"), "error": .string(refusal.reason), "config_version": .int(version),
        ]
        document["transaction"] = refusal.transaction
        return JSONValue.object(document).json
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
        }
        return "\(error)"
    }
}
