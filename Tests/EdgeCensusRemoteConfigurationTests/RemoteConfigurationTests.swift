import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusRemoteConfiguration
import EdgeCensusSupport
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Remote configuration: validated, all or nothing, persisted")
struct RemoteConfigurationTests {
    /// A local file with a state directory of its own.
    static func localFile(_ directory: TemporaryDirectory, extra: String = "") throws -> String {
        let path = directory.file("edgecensus.yaml")
        try writeFile(
            path, Data("state: {directory: \(directory.file("state"))}\nthrottle: {max_rate_hz: 2}\n\(extra)".utf8))
        return path
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(
        "each kind of bad request is refused with what was wrong, and changes nothing",
        arguments: [
            ("{\"throttle\": {\"max_rate_hz\": ", false, "not valid JSON"),
            ("[1, 2]", false, "not a JSON object"),
            (
                "{\"throttle\": {\"max_rate_hz\": \"fast\"}}", false,
                "throttle.max_rate_hz = \"fast\": expected a number"
            ),
            (
                "{\"throttle\": {\"max_rate_hz\": 5000}}", false,
                "throttle.max_rate_hz = 5000: 5000.0 is out of range; expected 0.01 to 30.0"
            ),
            ("{\"throttle\": {\"max_rate\": 1}}", false, "throttle.max_rate: unknown key"),
            (
                "{\"mqtt\": {\"host\": \"evil.example\"}}", false,
                "mqtt.host can be changed only in the local configuration file"
            ),
            ("{\"models\": {\"directory\": \"/tmp\"}}", false, "models.directory can be changed only in the local"),
            (
                "{\"throttle\": {\"max_rate_hz\": 1}, \"windows\": {\"length\": -5}}", false,
                "windows.length = -5: -5.0 is out of range"
            ),
            (
                "{\"config_version\": 7, \"throttle\": {\"max_rate_hz\": 1}}", false,
                "config_version 7 is stale: the configuration is at version 0"
            ),
            ("{\"throttle\": {\"max_rate_hz\": 1}}", true, "a retained config/set message is never applied"),
        ])
    func refusals(request: String, retained: Bool, expected: String) throws {
        let directory = try TemporaryDirectory()
        let remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        guard case .failure(let refusal) = remote.evaluate(Self.bytes(request), retained: retained) else {
            Issue.record("accepted: \(request)")
            return
        }
        #expect(refusal.reason.contains(expected), "\(refusal.reason)")
        #expect(remote.version == 0 && remote.effective.throttle.maxRateHz == 2)
        #expect(!FileManager.default.fileExists(atPath: remote.overridesFile))
        let result = remote.resultDocument(for: refusal)
        #expect(result.contains("\"status\":\"error\""))
    }

    @Test("the motion gate's keys change at once, remotely, within their ranges")
    func motionKeys() throws {
        let directory = try TemporaryDirectory()
        var remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        let change = try remote.evaluate(
            Self.bytes(#"{"motion":{"enabled":false,"threshold":35,"min_area_percent":1.5}}"#), retained: false
        ).get()
        #expect(change.restartRequired.isEmpty && !change.reopenCapture)
        try remote.commit(change)
        #expect(
            !remote.effective.motion.enabled && remote.effective.motion.threshold == 35
                && remote.effective.motion.minAreaPercent == 1.5)
        guard case .failure(let refusal) = remote.evaluate(Self.bytes(#"{"motion":{"threshold":0}}"#), retained: false)
        else {
            Issue.record("a threshold of 0 accepted")
            return
        }
        #expect(
            refusal.reason.contains("motion.threshold = 0: 0.0 is out of range; expected 1.0 to 255.0"),
            "\(refusal.reason)")
    }

    @Test("a request over the size cap is refused unread")
    func tooLarge() throws {
        let directory = try TemporaryDirectory()
        let remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        let padding = String(repeating: " ", count: RemoteConfiguration.maximumRequestBytes)
        guard
            case .failure(let refusal) = remote.evaluate(
                Self.bytes("{\"throttle\": {\"max_rate_hz\": 1}}" + padding), retained: false)
        else {
            Issue.record("accepted")
            return
        }
        #expect(refusal.reason.contains("at most \(RemoteConfiguration.maximumRequestBytes)"))
    }

    @Test("a valid change is applied whole, persisted, echoed with its transaction, and still in force after a restart")
    func acceptedAndPersisted() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.localFile(directory)
        var remote = try RemoteConfiguration(localFile: file)
        let request =
            #"{"transaction":"t-1","config_version":0,"throttle":{"max_rate_hz":0.5},"windows":{"length":30,"k_anonymity":3}}"#
        let change = try remote.evaluate(Self.bytes(request), retained: false).get()
        #expect(change.transaction == .string("t-1") && change.restartRequired.isEmpty && !change.reopenCapture)
        try remote.commit(change)
        #expect(remote.version == 1)
        #expect(
            remote.effective.throttle.maxRateHz == 0.5 && remote.effective.windowLength == 30
                && remote.effective.kAnonymity == 3)
        let result =
            try JSONSerialization.jsonObject(with: Data(remote.resultDocument(for: change).utf8)) as? [String: Any]
        #expect(
            result?["status"] as? String == "ok" && result?["transaction"] as? String == "t-1"
                && result?["config_version"] as? Int == 1)
        let state = try JSONSerialization.jsonObject(with: Data(remote.stateDocument.utf8)) as? [String: Any]
        #expect(((state?["config"] as? [String: Any])?["throttle"] as? [String: Any])?["max_rate_hz"] as? Double == 0.5)

        let restarted = try RemoteConfiguration(localFile: file)
        #expect(
            restarted.version == 1 && restarted.effective.throttle.maxRateHz == 0.5
                && restarted.effective.kAnonymity == 3)
        #expect(restarted.loadNote == nil)
        // The local file itself is never touched.
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("max_rate_hz: 2"))
    }

    @Test("null puts a key back to the local file's value; the version in the request must be the current one")
    func revert() throws {
        let directory = try TemporaryDirectory()
        var remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        try remote.commit(try remote.evaluate(Self.bytes(#"{"throttle":{"max_rate_hz":1}}"#), retained: false).get())
        if case .success = remote.evaluate(
            Self.bytes(#"{"config_version":0,"throttle":{"max_rate_hz":null}}"#), retained: false)
        {
            Issue.record("a change based on version 0 was accepted at version 1")
        }
        try remote.commit(
            try remote.evaluate(Self.bytes(#"{"config_version":1,"throttle":{"max_rate_hz":null}}"#), retained: false)
                .get())
        #expect(remote.effective.throttle.maxRateHz == 2 && remote.version == 2)
        // What a restart reads back: the key is gone from the overrides, the version is kept.
        let restarted = try RemoteConfiguration(localFile: remote.localFile)
        #expect(restarted.version == 2 && restarted.effective.throttle.maxRateHz == 2 && restarted.loadNote == nil)
        #expect(restarted.overrides.leaves.isEmpty, "\(restarted.overrides)")
        #expect(restarted.stateDocument == remote.stateDocument)
    }

    @Test("a detection change is kept for the next start; a camera change reopens the capture")
    func effects() throws {
        let directory = try TemporaryDirectory()
        let remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        let detection = try remote.evaluate(Self.bytes(#"{"detection":{"confidence_threshold":0.7}}"#), retained: false)
            .get()
        #expect(detection.restartRequired == ["detection.confidence_threshold"] && !detection.reopenCapture)
        let camera = try remote.evaluate(Self.bytes(#"{"source":{"width":800,"height":600}}"#), retained: false).get()
        #expect(camera.reopenCapture && camera.restartRequired.isEmpty)
        let same = try remote.evaluate(Self.bytes(#"{"source":{"width":640}}"#), retained: false).get()
        #expect(!same.reopenCapture)  // no change, nothing to reopen
    }

    @Test("a request that changes nothing keeps the version and writes nothing")
    func noChange() throws {
        let directory = try TemporaryDirectory()
        var remote = try RemoteConfiguration(localFile: try Self.localFile(directory))
        try remote.commit(try remote.evaluate(Self.bytes(#"{"transaction":"probe"}"#), retained: false).get())
        #expect(remote.version == 0 && !FileManager.default.fileExists(atPath: remote.overridesFile))
    }

    @Test(
        "a damaged overrides file is reported, the local configuration stays in force, and the next change replaces it")
    func damagedOverrides() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.localFile(directory)
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        for damage in [
            "{\"config_version\": 3, \"overr", "",
            "{\"config_version\": 3, \"overrides\": {\"throttle\": {\"max_rate_hz\": 999}}}", "\u{0}\u{1}garbage",
        ] {
            try writeFile(directory.file("state/remote-config.json"), Data(damage.utf8))
            var remote = try RemoteConfiguration(localFile: file)
            #expect(remote.loadNote?.contains("local configuration is in force") == true, "\(damage)")
            #expect(remote.effective.throttle.maxRateHz == 2)
            try remote.commit(
                try remote.evaluate(Self.bytes(#"{"throttle":{"max_rate_hz":1}}"#), retained: false).get())
            #expect(try RemoteConfiguration(localFile: file).effective.throttle.maxRateHz == 1)
            try FileManager.default.removeItem(atPath: directory.file("state/remote-config.json"))
        }
    }

    @Test("a write cut short leaves only a stray temporary file: the last complete change is what loads")
    func tornWrite() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.localFile(directory)
        var remote = try RemoteConfiguration(localFile: file)
        try remote.commit(try remote.evaluate(Self.bytes(#"{"throttle":{"max_rate_hz":1}}"#), retained: false).get())
        try writeFile(remote.overridesFile + ".tmp", Data(#"{"config_version": 2, "overri"#.utf8))
        let restarted = try RemoteConfiguration(localFile: file)
        #expect(restarted.version == 1 && restarted.effective.throttle.maxRateHz == 1 && restarted.loadNote == nil)
    }

    @Test("config/set accepts exactly the keys the table marks remote, and says what each does")
    func remoteKeysAreTheTables() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("edgecensus.yaml")
        try writeFile(path, Data("state: {directory: \(directory.file("state"))}\n".utf8))
        let remote = try RemoteConfiguration(localFile: path)
        for key in ConfigurationKeys.all where key.value != .classifier {
            let request = JSONValue.object(["config_version": 0]).merging(patch: .nested(key.path, key.defaultValue))
            switch remote.evaluate(Array(request.json.utf8), retained: false) {
            case .success:
                #expect(key.isRemote, "\(key.path) was accepted over MQTT but is local only")
            case .failure(let refusal):
                #expect(!key.isRemote, "\(key.path) was refused: \(refusal.reason)")
                #expect(refusal.reason.contains("can be changed only in the local configuration file"))
            }
        }
        let state = try JSONValue.parse(json: Data(remote.stateDocument.utf8))
        #expect(
            state.object?["config"]?.leaves.map(\.path).sorted() == ConfigurationKeys.remote.map(\.path).sorted())
    }

    @Test("the agent reads the local file's scalars as validate does, also under remote changes")
    func remoteKeepsTheFilesText() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("edgecensus.yaml")
        try writeFile(
            path,
            Data("state: {directory: \(directory.file("state"))}\ndevice: {id: 0123}\nwindows: {length: 0x3c}\n".utf8))
        #expect(try AgentConfiguration.load(file: path).deviceID == "0123")
        var remote = try RemoteConfiguration(localFile: path)
        #expect(remote.effective.deviceID == "0123")
        #expect(remote.effective.windowLength == 60)
        guard
            case .success(let change) = remote.evaluate(
                Array(#"{"throttle": {"max_rate_hz": 1}}"#.utf8), retained: false)
        else {
            Issue.record("refused")
            return
        }
        #expect(change.configuration.deviceID == "0123")
        #expect(change.configuration.throttle.maxRateHz == 1)
        try remote.commit(change)
        #expect(try RemoteConfiguration(localFile: path).effective.deviceID == "0123")
    }
}
