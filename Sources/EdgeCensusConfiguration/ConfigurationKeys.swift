import EdgeCensusCounting
public import EdgeCensusSupport
import EdgeCensusTelemetry
import EdgeCensusVisionTypes

/// Every key of `edgecensus.yaml`, declared once: path, type and range, meaning and
/// remote effect. A key's default is its field's initial value in the settings type
/// (`AgentConfiguration()`), read through the key path. The parser reads a file
/// with this table, `config/set` accepts the keys it marks remote, and the
/// documents are made from it: `edgecensus config keys --format
/// text|markdown|man|yaml|schema` prints the reference, the man page
/// `edgecensus.yaml(5)`, the sample `etc/edgecensus.yaml` and the config-state
/// schema, and a test checks the committed copies are current.
///
/// To add a key: add its field, with its default, to the settings type; add one
/// entry here; run `Tests/regenerate-documents.sh` (`Tests/README.md`, "Generated
/// documents").
public enum ConfigurationKeys {
    public static let all: [ConfigurationKey] = [
        // models
        .optionalText(
            "models.directory", \.modelsDirectory,
            note: "found automatically: the source tree's Models/, else /usr/share/edgecensus/models",
            "Folder holding the model files and their SHA256SUMS manifest (also --models DIR or $EDGECENSUS_MODELS). A model set made by /usr/share/edgecensus/tools/make-optional-set.sh (YuNet and face-api.js's net, which you download yourself; README, \"Better models\") brings its own detector and nets: give its folder here."
        ),

        // detection
        .number(
            "detection.confidence_threshold", \.detection.confidenceThreshold, in: 0.01...1,
            remote: .restart, "A detection is a face at or above this confidence."),
        .wholeNumber(
            "detection.min_face_size", \.detection.minFaceSize, in: 1...4096, remote: .restart,
            "Faces whose shorter side is under this many pixels are ignored."),
        .number(
            "detection.border", \.detection.border, in: 0...1,
            "Also search the photo framed by a border of this fraction of its size on each side, and cut faces from the framed copy: finds faces that fill tightly cropped portraits. Costs a second detector pass; 0 turns it off. Photos only (detect, evaluate); run never uses it."
        ),
        .numbers(
            "detection.mean", \.detection.mean, count: 3, each: 0...255, meaning: "B, G, R",
            "BGR mean the SSD face detector subtracts (its training definition's values; OpenCV's sample uses 104, 177, 123, which evaluate scored lower)."
        ),
        .flag(
            "detection.keep_aspect", \.detection.keepAspect,
            "Camera and video frames go to the detector at their own aspect ratio, the longer side 300 px (16:9: 300x169, about half the work of 300x300, and faces keep their shape); false squashes them to 300x300. Photos (detect, evaluate) are always squashed: that finds more small faces in a still photo."
        ),
        .wholeNumber(
            "detection.max_megapixels", \.maxImageMegapixels,
            in: 1...1000,
            "An image (a photo, an image folder's file, a camera's MJPEG frame) whose header declares more than this many megapixels is refused before it is decoded: a 20000x20000 PNG of a few hundred KiB would take 1.2 GiB."
        ),

        // alignment
        .number(
            "alignment.scale", \.alignment.scale, in: 0.5...2,
            "The landmark model looks at a square this many detector-box widths wide ..."),
        .number(
            "alignment.shift", \.alignment.shift, in: -0.5...0.5,
            "... centred this many box heights below the box's centre."),

        // classification
        .flag(
            "classification.flip_average", \.flipAverage,
            "Classify each face and its mirror image and average the two ..."),
        .number(
            "classification.mirror_below", \.mirrorBelow, in: 0...1,
            "... but only when the first pass's calibrated confidence (the likelier gender's probability, the age group's probability mass) is below this; 1 mirrors every face. Cross-validation preferred 0.5 (gender never mirrored, age mostly) in every fold; 1 stays the default because the temperatures and thresholds were fitted with every face mirrored."
        ),
        .wholeNumber(
            "classification.threads", \.inferenceThreads, in: 0...64,
            "OpenCV threads for inference; 0 keeps OpenCV's default (all cores)."),
        .classifier(
            "classification.gender", \.gender,
            "The gender classifier: a preset (dlib-cydral, shipped; levi-hassner, which needs weights: the authors' gender_net.caffemodel), optionally with fields overridden, or preset: custom with every field given. Its fields: edgecensus config keys, edgecensus.yaml(5)."
        ),
        .classifier(
            "classification.age", \.age,
            "The age classifier, as the gender's (levi-hassner needs the authors' age_net.caffemodel). A net that gives both, named the same under gender and age, runs once per face."
        ),
        .number(
            "classification.gender_min_confidence", \.decision.gender,
            in: 0.5...1, remote: .live,
            "A gender is reported only when its calibrated probability reaches this; below, the answer is unknown: the person is still counted, in the counts document's unknown cells, which a dashboard should show as a category of its own. Higher: fewer but more often right answers. Chosen by cross-validation (Accuracy article)."
        ),
        .number(
            "classification.age_min_confidence", \.decision.age, in: 0...1,
            remote: .live, "An age group is reported only when its calibrated probability reaches this; below, unknown."
        ),

        // device
        .optionalText(
            "device.id", \.deviceID, note: "the host name", rule: ConfigurationKeys.deviceIDRule,
            "Names this device in everything it publishes: 1 to 64 ASCII letters, digits, - and _ (it becomes an MQTT topic level)."
        ),

        // source
        .choice(
            "source.kind", \.source.kind, what: "a source",
            "camera (a V4L2 device), video (a file) or images (a folder)."),
        .text(
            "source.device", \.source.device, remote: .reopenCapture,
            rule: ConfigurationKeys.cameraRule,
            "The camera: an absolute device path, or better a stable /dev/v4l/by-id/... name (edgecensus cameras lists them)."
        ),
        .wholeNumber(
            "source.width", \.source.width, in: 16...7680, remote: .reopenCapture,
            "Frame width asked of the camera; the nearest it offers is used."),
        .wholeNumber(
            "source.height", \.source.height, in: 16...4320, remote: .reopenCapture,
            "Frame height asked of the camera."),
        .number(
            "source.fps", \.source.fps, in: 0.1...240, remote: .reopenCapture,
            "Frame rate asked of the camera."),
        .choice(
            "source.format", \.source.format, what: "a pixel format", remote: .reopenCapture,
            "auto: MJPEG above 640x480, YUYV up to it (else whatever libv4l2 can convert); mjpeg or yuyv: ask for that format only."
        ),
        .text(
            "source.path", \.source.path, note: "none; needed by kind video and images",
            "The video file or image folder, for kind video and images."),
        .flag(
            "source.realtime", \.source.realtime,
            "video: play at its own frame rate, as a camera would deliver it (frames dropped when analysis is slower), or, false, analyse it as fast as possible on its own timeline, so that the same file always gives the same counts."
        ),
        .time(
            "source.start_time", \.source.startTime, note: "when the run starts",
            "For a recording analysed with realtime false: the wall-clock time of its first frame."),
        .number(
            "source.interval", \.source.interval, in: 0.001...3600,
            "images: seconds between two images of the folder."),

        // throttle
        .number(
            "throttle.max_rate_hz", \.throttle.maxRateHz, in: 0.01...30, remote: .live,
            "At most this many analyses per second; frames in between are dropped."),
        .number(
            "throttle.cpu_budget_percent", \.throttle.cpuBudgetPercent, in: 1...400, remote: .live,
            "Analysis uses at most this percentage of one core, averaged."),
        .number(
            "throttle.temperature_limit", \.throttle.temperatureLimit, in: 30...110, remote: .live,
            "Above this temperature (°C, from /sys/class/thermal) the rate halves, and halves again every further 5 °C."
        ),

        // motion
        .flag(
            "motion.enabled", \.motion.enabled, remote: .live,
            "A cheap check on every frame (a small blurred grey copy against a slowly adapting background) decides whether the face detector runs: when nothing moves and nobody is tracked, only the check runs (MotionGate article). false: the detector runs at throttle.max_rate_hz whatever happens."
        ),
        .number(
            "motion.threshold", \.motion.threshold, in: 1...255, remote: .live,
            "Grey levels (of 255) a spot must change by to count as changed; lower is more sensitive. Brightness and exposure changes over the whole picture are matched out before this."
        ),
        .number(
            "motion.min_area_percent", \.motion.minAreaPercent, in: 0.01...100, remote: .live,
            "Percent of the picture that must change for a frame to count as motion. A face 30 pixels wide in a 640x360 frame covers about 0.5 %."
        ),

        // tracking
        .wholeNumber(
            "tracking.min_track_frames", \.tracking.minTrackFrames, in: 1...100, remote: .live,
            "A face must be seen in this many analysed frames to count as a person."),
        .number(
            "tracking.track_timeout", \.tracking.trackTimeout, in: 0.1...600, remote: .live,
            "Seconds without a sighting after which a person has left."),
        .number(
            "tracking.min_overlap", \.tracking.minOverlap, in: 0.01...1, remote: .live,
            "A face continues a track when their boxes overlap this much (IoU) ..."),
        .number(
            "tracking.max_centre_distance", \.tracking.maxCentreDistance, in: 0...5, remote: .live,
            "... or when it is within this many face widths of where the track was heading."),
        .number(
            "tracking.settle_after", \.tracking.settleAfter, in: 0...1000, remote: .live,
            "A person's answers are voted from all their frames, each weighted by how good a view it gave. Once the vote weighs this many good frames and both answers are decided, the person is settled: their face is then classified only for a check every 5 sightings or after an uncertain match, which saves the classification time for people who stay in view. 0: classify every frame."
        ),

        // windows
        .number(
            "windows.length", \.windowLength, in: 1...86400, remote: .live,
            "Seconds per counting window, aligned to the wall clock."),
        .wholeNumber(
            "windows.k_anonymity", \.kAnonymity, in: 0...1000, remote: .live,
            "Counts above 0 and below this are published as null (suppressed); 0 or 1: off."),

        // state
        .text(
            "state.directory", \.stateDirectory, rule: TextRules.absolutePathProblem,
            "What must survive a restart: the window sequence, remote changes (remote-config.json), the offline buffer. An absolute path, made again if it is deleted."
        ),

        // buffer
        .text(
            "buffer.path", \.buffer.path, note: "<state.directory>/buffer.ring",
            rule: { $0.isEmpty ? nil : TextRules.absolutePathProblem($0) },
            "The ring file that keeps every window until the broker has acknowledged it (while it is away, across restarts and power cuts); an absolute path."
        ),
        .wholeNumber(
            "buffer.size_mib", \.buffer.sizeMiB, in: 1...4096,
            "Its fixed size in MiB, preallocated; when full, the oldest windows are overwritten (and counted). A window is about 0.7 KiB: 16 MiB holds about 22 000, over two weeks of one-minute windows."
        ),
        .choice(
            "buffer.sync", \.buffer.sync, what: "a sync policy",
            "always: fsync each window and each acknowledgement (survives power cuts). never: for a RAM disk; a power cut can then lose the windows of the last ~35 s and send again those acknowledged in that time (a killed process loses nothing either way)."
        ),
        .number(
            "buffer.replay_rate_hz", \.buffer.replayRateHz, in: 0.1...1000,
            "Buffered windows sent per second once the broker is back."),

        // mqtt
        .text(
            "mqtt.host", \.mqtt.host, note: "MQTT off", rule: TextRules.hostProblem,
            "The broker; without one, each window is written as a JSON line to standard output instead."),
        .wholeNumber("mqtt.port", \.mqtt.port, in: 1...65535, "The broker's port."),
        .text(
            "mqtt.client_id", \.mqtt.clientID, note: "edgecensus-<device id>",
            rule: ConfigurationKeys.clientIDRule, "The MQTT client id: at most 128 bytes, without control characters."),
        .choice(
            "mqtt.protocol", \.mqtt.protocolVersion, what: "a protocol version",
            "The MQTT protocol version."),
        .wholeNumber(
            "mqtt.keepalive", \.mqtt.keepalive, in: 5...3600, "Seconds between keepalive pings."),
        .optionalText("mqtt.username", \.mqtt.username, note: "none", "The user name, when the broker asks for one."),
        .optionalText(
            "mqtt.password_file", \.mqtt.passwordFile, note: "none",
            "The password is read from the first line of this file (mode 0600), never written here."),
        .text(
            "mqtt.tls.ca_file", \.mqtt.tlsCAFile, note: "TLS off",
            "TLS: give the CA certificate file to turn it on."),
        .text(
            "mqtt.tls.cert_file", \.mqtt.tlsCertificateFile, note: "none",
            "A client certificate, with key_file, when the broker asks for one."),
        .text("mqtt.tls.key_file", \.mqtt.tlsKeyFile, note: "none", "The client certificate's key."),
        .text(
            "mqtt.topic_prefix", \.mqtt.topicPrefix, rule: ConfigurationKeys.topicRule,
            "Topics are <topic_prefix>/<device id>/status|counts|state|health. MQTT's rules: not empty, no #, +, NUL or control character, no empty level, no leading $."
        ),
        .flag(
            "mqtt.discovery", \.mqtt.discovery,
            "Home Assistant discovery: retained sensor configs under discovery_prefix."),
        .text(
            "mqtt.discovery_prefix", \.mqtt.discoveryPrefix,
            rule: ConfigurationKeys.topicRule, "Home Assistant's discovery prefix; the topic prefix's rules."),
        .number(
            "mqtt.health_interval", \.mqtt.healthInterval, in: 1...86400, remote: .live,
            "Seconds between health reports."),
    ]

    /// Checks that span keys, made after every key is read: (the key to blame, the problem).
    static let checks: [(key: String, problem: @Sendable (AgentConfiguration) -> String?)] = [
        (
            "source.path",
            {
                $0.source.kind != .camera && $0.source.path.isEmpty
                    ? "a \($0.source.kind.rawValue) source needs a path" : nil
            }
        )
    ]

    private static let byPath = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    public static func key(_ path: String) -> ConfigurationKey? { byPath[path] }

    /// The key at `path` when `config/set` may change it.
    public static func remoteKey(_ path: String) -> ConfigurationKey? { key(path).flatMap { $0.isRemote ? $0 : nil } }

    /// The keys `config/set` accepts.
    public static var remote: [ConfigurationKey] { all.filter(\.isRemote) }

    /// The remote keys and their effective values, as one nested object (config-state's `config`).
    public static func remoteValues(of configuration: AgentConfiguration) -> JSONValue {
        remote.reduce(JSONValue.object([:])) { tree, key in
            tree.merging(patch: .nested(key.path, key.read(configuration)))
        }
    }

    // The text rules, with the value quoted where the message names it.
    static let deviceIDRule: @Sendable (String) -> String? = { id in
        TextRules.deviceIDProblem(id).map { "'\(id.prefix(80))\(id.count > 80 ? "…" : "")' \($0)" }
    }
    static let cameraRule: @Sendable (String) -> String? = { device in
        TextRules.absolutePathProblem(device).map {
            "\($0); a camera is a device path such as /dev/video0 or /dev/v4l/by-id/..."
        }
    }
    static let clientIDRule: @Sendable (String) -> String? = { id in
        id.utf8.count <= 128 && !id.unicodeScalars.contains(where: { $0.value < 0x20 })
            ? nil : "at most 128 bytes, without NUL or control characters"
    }
    static let topicRule: @Sendable (String) -> String? = { prefix in
        TextRules.topicPrefixProblem(prefix).map { "'\(prefix.debugDescription.dropFirst().dropLast())' \($0)" }
    }
}
