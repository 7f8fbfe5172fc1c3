public import EdgeCensusCounting
import EdgeCensusStorage
public import EdgeCensusVisionTypes
import Foundation

/// The one configuration of EdgeCensus, as read from `edgecensus.yaml`. Each key
/// is declared once, in `ConfigurationKeys`: its path, type, range and meaning; its
/// default is its field's initial value. Every key is optional; a missing key keeps its default. Unknown keys
/// and values out of range are refused with the key's dotted path.
public struct AgentConfiguration: Sendable, Equatable {
    /// `models.directory`: where the model files and `SHA256SUMS` are; nil = found
    /// automatically (the source tree's `Models/`, else `/usr/share/edgecensus/models`).
    public var modelsDirectory: String?
    /// `detection.*`; `keep_aspect` defaults to true here (it applies to frames only).
    public var detection: DetectionSettings = {
        var settings = DetectionSettings()
        settings.keepAspect = true
        return settings
    }()
    /// `detection.max_megapixels`: an image (a photo, a folder's file, a camera's MJPEG
    /// frame) whose header declares more pixels is refused before it is decoded.
    public var maxImageMegapixels = ImageLimits.defaultMaxPixels / 1_000_000
    public var alignment = AlignmentSettings()
    /// `classification.flip_average`
    public var flipAverage = true
    /// `classification.mirror_below`: the mirror pass only when the first pass is less sure than this.
    public var mirrorBelow = PipelineSettings().mirrorBelow
    /// `classification.threads`: OpenCV threads for inference; 0 keeps OpenCV's default.
    public var inferenceThreads = 0
    public var gender = ClassifierConfiguration.preset(.dlibCydral)
    public var age = ClassifierConfiguration.preset(.dlibCydral)
    /// `classification.gender_min_confidence` / `age_min_confidence`: below these an
    /// answer is reported as unknown (for a face in `detect`, for a person in the counts).
    public var decision = DecisionThresholds()
    /// `device.id`: names this device in every document it publishes; nil = the host name.
    public var deviceID: String?
    public var source = SourceConfiguration()
    public var throttle = ThrottleSettings()
    public var tracking = TrackingSettings()
    /// `motion.*`: the check before the detector, and whether it gates the detector.
    public var motion = MotionSettings()
    /// `windows.length`: seconds per counting window, aligned to the wall clock.
    public var windowLength = 60.0
    /// `windows.k_anonymity`: counts above zero and below this are reported as suppressed (0 or 1 = off).
    public var kAnonymity = 0
    /// `state.directory`: where the agent keeps what must survive a restart (the window sequence).
    public var stateDirectory = "/var/lib/edgecensus"
    public var buffer = BufferConfiguration()
    public var mqtt = MQTTConfiguration()

    /// The defaults: each field's initial value here and in the settings types. They
    /// are declared nowhere else; the key table reads them from this value.
    public init() {}

    /// Where the offline buffer lives: `buffer.path`, else `<state.directory>/buffer.ring`.
    public var bufferPath: String { buffer.path.isEmpty ? stateDirectory + "/buffer.ring" : buffer.path }

    /// Why `id` cannot be a device id (the rule `device.id` follows), or nil when it can.
    public static func deviceIDProblem(_ id: String) -> String? {
        id.isEmpty ? "is empty" : TextRules.deviceIDProblem(id)
    }

    /// The device id to publish: `device.id`, else the host name.
    public var effectiveDeviceID: String {
        if let deviceID, !deviceID.isEmpty { return deviceID }
        return ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "edgecensus"
    }

    /// The pipeline settings this configuration asks for.
    public var pipelineSettings: PipelineSettings {
        var settings = PipelineSettings()
        settings.detection = detection
        settings.alignment = alignment
        settings.flipAverage = flipAverage
        settings.mirrorBelow = mirrorBelow
        settings.decision = decision
        return settings
    }

    /// The tracking settings, with the thresholds a person's voted answers must reach.
    public var trackingSettings: TrackingSettings {
        var settings = tracking
        settings.decision = decision
        return settings
    }

    /// Reads and validates a YAML configuration file.
    public static func load(file path: String) throws(ConfigurationError) -> AgentConfiguration {
        try read(file: path).configuration
    }

    /// A configuration file's tree as written (an empty file is an empty mapping) and
    /// the configuration it gives; every error names the file.
    static func read(file path: String) throws(ConfigurationError) -> (
        tree: YAMLTree, configuration: AgentConfiguration
    ) {
        let tree = try readTree(file: path)
        do {
            return (tree, try decode(tree))
        } catch {
            throw located(error, in: tree, file: path)
        }
    }

    /// Every problem in a file, each with its key and line, not just the first: each
    /// key found wrong is set aside and the rest checked again (at most 100 times).
    public static func problems(file path: String) -> [ConfigurationError] {
        var tree: YAMLTree
        do {
            tree = try readTree(file: path)
        } catch {
            return [error]
        }
        let original = tree
        var found: [ConfigurationError] = []
        for _ in 0..<100 {
            do {
                _ = try decode(tree)
                return found
            } catch {
                found.append(located(error, in: original, file: path))
                guard !error.key.isEmpty, let rest = tree.removing(error.key) else { return found }
                tree = rest
            }
        }
        return found
    }

    private static func readTree(file path: String) throws(ConfigurationError) -> YAMLTree {
        let text: String
        do {
            text = try BoundedTextFile.read(path, limit: YAMLTree.largestText)
        } catch {
            throw ConfigurationError(
                .file, key: "", problem: error.kind == .missing ? "configuration file not found" : error.description,
                file: path)
        }
        do {
            return try YAMLTree.parse(text) ?? .mapping([])
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    private static func located(_ error: ConfigurationError, in tree: YAMLTree, file: String) -> ConfigurationError {
        var located = error
        located.file = file
        located.line = error.line ?? (error.key.isEmpty ? nil : tree.line(of: error.key))
        return located
    }

    /// Parses YAML text (an empty document is the default configuration).
    public static func parse(yaml text: String) throws(ConfigurationError) -> AgentConfiguration {
        guard let tree = try YAMLTree.parse(text) else { return AgentConfiguration() }
        return try decode(tree)
    }

    /// Decodes a parsed tree with every check.
    static func decode(_ tree: YAMLTree) throws(ConfigurationError) -> AgentConfiguration {
        do {
            return try tree.decode(AgentConfiguration.self)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw ConfigurationError.unwrapping(error)
        } catch {
            throw ConfigurationError(key: "", problem: "\(error)")
        }
    }
}

extension ConfigurationError {
    /// A decoding error may wrap what a type's own decoding threw: dig out our own
    /// error (or the innermost decoding error) so that the key is named.
    static func unwrapping(_ error: DecodingError) -> ConfigurationError {
        var current: any Error = error
        while let decoding = current as? DecodingError {
            let context: DecodingError.Context?
            switch decoding {
            case let .dataCorrupted(c), let .typeMismatch(_, c), let .valueNotFound(_, c), let .keyNotFound(_, c):
                context = c
            @unknown default: context = nil
            }
            // A kind of our own that carries no message stays under its decoding error.
            guard let underlying = context?.underlyingError, !(underlying is WholeNumberOutOfRange) else { break }
            current = underlying
        }
        if let own = current as? ConfigurationError { return own }
        if let decoding = current as? DecodingError { return ConfigurationError(decoding: decoding) }
        return ConfigurationError(.syntax, key: "", problem: "not valid YAML: \(current)")
    }

    init(decoding error: DecodingError) {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(type, context):
            self.init(
                .wrongType, key: path(context), problem: "expected \(Self.describe(type)); \(context.debugDescription)")
        case let .valueNotFound(type, context):
            self.init(.wrongType, key: path(context), problem: "expected \(Self.describe(type)), found nothing")
        case let .keyNotFound(key, context):
            self.init(
                .missingKey, key: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                problem: "required key missing")
        case let .dataCorrupted(context):
            self.init(
                context.underlyingError is WholeNumberOutOfRange ? .outOfRange : .invalidValue, key: path(context),
                problem: context.debugDescription)
        @unknown default:
            self.init(.invalidValue, key: "", problem: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "a number"
        case is Int.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is YAMLShape.Mapping.Type: return "a mapping (key: value)"
        case is YAMLShape.List.Type: return "a list"
        default: return "\(type)"
        }
    }
}

extension AgentConfiguration: Decodable {
    /// Reads a file's tree with the key table (`ConfigurationKeys`), then the checks that span keys.
    public init(from decoder: any Decoder) throws {
        self.init()
        try ConfigurationKeys.decode(section: [], from: decoder, into: &self)
        for check in ConfigurationKeys.checks {
            if let problem = check.problem(self) { throw ConfigurationError(key: check.key, problem: problem) }
        }
    }
}

/// `buffer`: the ring file that keeps windows until the broker has them.
public struct BufferConfiguration: Sendable, Equatable {
    public enum Sync: String, Sendable, CaseIterable { case always, never }
    /// Empty: `<state.directory>/buffer.ring`.
    public var path = ""
    /// The ring's fixed size, in MiB.
    public var sizeMiB = 16
    /// `always`: fsync every window and checkpoint (survives power cuts); `never`: for a RAM disk.
    public var sync = Sync.always
    /// Buffered windows sent per second after a reconnect.
    public var replayRateHz = 20.0

    public init() {}
}
