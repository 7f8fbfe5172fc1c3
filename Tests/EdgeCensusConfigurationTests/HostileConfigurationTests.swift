import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Hostile configuration files: a clear refusal, in bounded time and memory")
struct HostileConfigurationTests {
    @Test(
        "a base-60 number too large for any integer key is refused as out of range, naming the key, instead of trapping",
        arguments: [
            "windows:\n  k_anonymity: 1:1:1:1:1:1:1:1:1:1:1:1\n",
            "mqtt:\n  port: -1:1:1:1:1:1:1:1:1:1:1:1\n",
            "windows:\n  length: 99999999999999999999\n",
            "buffer:\n  size_mib: 0x1ffffffffffffffffff\n",
        ])
    func baseSixtyOverflow(yaml: String) {
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
        #expect(
            error?.description.contains("not a whole number in range") == true
                || error?.description.contains("out of range") == true
                || error?.description.contains("between") == true, "\(String(describing: error))")
    }

    @Test("an alias bomb (nine levels of nine aliases, ~800 bytes) is refused within a second")
    func aliasBomb() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 9).joined(separator: ", "))]\n"
        }
        let start = Date()
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(error?.description.contains("aliases") == true, "\(String(describing: error))")
    }

    @Test(
        "nesting thousands of levels deep is refused before it is composed",
        arguments: [
            String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
            String(repeating: "- ", count: 50_000) + "x\n",
            String(repeating: "{a: ", count: 20_000) + "1" + String(repeating: "}", count: 20_000),
        ])
    func deepNesting(yaml: String) {
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
        #expect(error?.description.contains("nested more than") == true, "\(String(describing: error))")
    }

    @Test("the shipped configuration is not mistaken for deep nesting")
    func shippedFileIsShallow() throws {
        _ = try AgentConfiguration.load(file: TestPaths.repository + "/etc/edgecensus.yaml")
    }

    @Test("a file that is a folder, a device, a symbolic link loop, too large or not UTF-8 is refused saying which")
    func unreadableFiles() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("loop-a"), withDestinationPath: directory.file("loop-b"))
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("loop-b"), withDestinationPath: directory.file("loop-a"))
        try writeFile(directory.file("large.yaml"), Data(repeating: UInt8(ascii: "#"), count: 300 * 1024))
        try writeFile(
            directory.file("latin1.yaml"), Data([0x64, 0x65, 0x76, 0x69, 0x63, 0x65, 0x3A, 0x20, 0xE9, 0x0A]))
        for (path, problem) in [
            (directory.path, "a folder"), ("/dev/null", "not a regular file"),
            (directory.file("loop-a"), "loop of symbolic links"),
            (directory.file("large.yaml"), "307200 bytes, more than the 262144"),
            (directory.file("latin1.yaml"), "not UTF-8 text (an invalid byte at offset 8)"),
            (directory.file("none.yaml"), "configuration file not found"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(file: path) }
            #expect(
                error?.description.contains(problem) == true && error?.description.contains(path) == true,
                "\(path): \(String(describing: error))")
        }
    }
}

@Suite("Strict values: what the configuration accepts is what the agent can use")
struct StrictValueTests {
    @Test(
        "a topic prefix follows MQTT's rules: no wildcard, NUL, empty level or leading $",
        arguments: [
            ("$SYS", "may not start with $"), ("''", "is empty"), ("/", "an empty level"), ("a//b", "an empty level"),
            ("a/", "an empty level"), ("\"a\\0b\"", "a NUL character"), ("\"a\\tb\"", "control characters"),
            ("a/#", "wildcards"),
        ])
    func topicPrefix(value: String, problem: String) {
        expectRefusal(of: "mqtt:\n  topic_prefix: \(value)\n", key: "mqtt.topic_prefix", problem: problem)
        expectRefusal(of: "mqtt:\n  discovery_prefix: \(value)\n", key: "mqtt.discovery_prefix", problem: problem)
    }

    @Test(
        "numbers are finite and in range: NaN and infinity are refused where a number is read",
        arguments: [".nan", ".inf", "-.inf"])
    func finiteNumbers(value: String) {
        expectRefusal(
            of: "detection:\n  mean: [\(value), 117, 123]\n", key: "detection.mean",
            problem: "not a number from 0 to 255")
        expectRefusal(of: "throttle:\n  max_rate_hz: \(value)\n", key: "throttle.max_rate_hz", problem: "out of range")
    }

    @Test(
        "paths that must be absolute are, and are never empty",
        arguments: [
            ("state:\n  directory: ''\n", "state.directory", "is empty"),
            ("state:\n  directory: var/lib\n", "state.directory", "not an absolute path"),
            ("buffer:\n  path: buffer.ring\n", "buffer.path", "not an absolute path"),
            ("source:\n  device: 1\n", "source.device", "not an absolute path"),
            ("source:\n  device: ''\n", "source.device", "is empty"),
            ("source:\n  device: \"/dev/video\\0\"\n", "source.device", "a NUL character"),
        ])
    func paths(yaml: String, key: String, problem: String) {
        expectRefusal(of: yaml, key: key, problem: problem)
    }

    @Test("a device id is 1 to 64 ASCII letters, digits, '-' and '_'")
    func deviceIDs() throws {
        expectRefusal(
            of: "device:\n  id: \(String(repeating: "a", count: 65))\n", key: "device.id", problem: "at most 64")
        expectRefusal(
            of: "device:\n  id: \(String(repeating: "a", count: 100_000))\n", key: "device.id", problem: "at most 4096")
        expectRefusal(of: "device:\n  id: café\n", key: "device.id", problem: "ASCII letters")
        #expect(
            try AgentConfiguration.parse(yaml: "device:\n  id: \(String(repeating: "a", count: 64))\n").deviceID?.count
                == 64)
    }

    @Test("!!str makes text, never a number; a tag the configuration does not use is refused")
    func tags() {
        expectRefusal(of: "windows:\n  k_anonymity: !!str 3\n", key: "windows.k_anonymity", problem: "found \"3\"")
        expectRefusal(
            of: "windows:\n  k_anonymity: !custom 3\n", key: "windows.k_anonymity", problem: "the tag !custom")
        expectRefusal(
            of: "windows:\n  k_anonymity: !!binary aGVsbG8=\n", key: "windows.k_anonymity", problem: "the tag !!binary")
    }
}

@Suite("Strict requests over MQTT: RFC 8259 JSON, values where values go, and only remote keys kept")
struct StrictRequestTests {
    static func remote(_ directory: TemporaryDirectory) throws -> RemoteConfiguration {
        try RemoteConfiguration(localFile: try RemoteConfigurationTests.localFile(directory))
    }

    static let utf16: [UInt8] = Array("{\"throttle\": {\"max_rate_hz\": 1}}".utf16).flatMap { unit -> [UInt8] in
        [UInt8(unit & 0xFF), UInt8(unit >> 8)]
    }

    @Test(
        "JSON that is not plain RFC 8259 UTF-8 is refused saying what and where",
        arguments: [
            (Array("{\"throttle\": {\"max_rate_hz\": 1, \"max_rate_hz\": 2}}".utf8), "the key \"max_rate_hz\" twice"),
            ([0xEF, 0xBB, 0xBF] + Array("{\"throttle\": {\"max_rate_hz\": 1}}".utf8), "a byte-order mark"),
            (Array("{\"throttle\": {\"max_rate_hz\": 1},}".utf8), "a trailing comma"),
            (Array("{\"throttle\": {\"max_rate_hz\": [1,]}}".utf8), "a trailing comma"),
            (utf16, "UTF-16"),
            (Array("{\"throttle\": {\"max_rate_hz\": 1e309}}".utf8), "the number 1e309 is out of range"),
            (Array("{\"device\": {\"id\": \"\\ud800\"}}".utf8), "a lone surrogate"),
            (Array("{\"throttle\": {\"max_rate_hz\": 1}} // comment".utf8), "more after the value"),
            (Array("{\"throttle\": {\"max_rate_hz\": 01}}".utf8), "a leading zero"),
            (Array("{\"a\": \"\u{1}\"}".utf8), "a control character"),
            ([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D], "not UTF-8"),
            (Array(repeating: UInt8(ascii: "["), count: 5000), "nested more than 32 levels"),
        ] as [([UInt8], String)])
    func strictJSON(request: [UInt8], problem: String) throws {
        let directory = try TemporaryDirectory()
        let remote = try Self.remote(directory)
        guard case .failure(let refusal) = remote.evaluate(request, retained: false) else {
            Issue.record("accepted")
            return
        }
        #expect(refusal.reason.contains("not valid JSON") && refusal.reason.contains(problem), "\(refusal.reason)")
    }

    @Test(
        "an object or {} where a value is expected is refused, not answered ok",
        arguments: [
            ("{\"throttle\": {\"max_rate_hz\": {}}}", "throttle.max_rate_hz = {}: expected a value"),
            ("{\"throttle\": {\"max_rate_hz\": {\"a\": 1}}}", "throttle.max_rate_hz = {\"a\":1}: expected a value"),
            ("{\"throttle\": {}}", "throttle = {}: an empty object changes nothing"),
        ])
    func objectsWhereValuesGo(request: String, problem: String) throws {
        let directory = try TemporaryDirectory()
        let remote = try Self.remote(directory)
        guard case .failure(let refusal) = remote.evaluate(Array(request.utf8), retained: false) else {
            Issue.record("accepted: \(request)")
            return
        }
        #expect(refusal.reason.contains(problem), "\(refusal.reason)")
    }

    @Test(
        "remote-config.json keeps only remote keys: device.id, mqtt.host/port and state.directory in it are ignored with a note naming them"
    )
    func overridesFileHoldsRemoteKeysOnly() throws {
        let directory = try TemporaryDirectory()
        let local = try RemoteConfigurationTests.localFile(
            directory, extra: "device: {id: hall}\nmqtt: {host: broker.local, port: 1883}\n")
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        try writeFile(
            directory.file("state/remote-config.json"),
            Data(
                """
                {"config_version": 3, "overrides": {"device": {"id": "evil"}, "mqtt": {"host": "evil.example", "port": 8883},
                 "state": {"directory": "/tmp/elsewhere"}, "throttle": {"max_rate_hz": 1}}}
                """.utf8))
        let remote = try RemoteConfiguration(localFile: local)
        #expect(
            remote.effective.deviceID == "hall" && remote.effective.mqtt.host == "broker.local"
                && remote.effective.mqtt.port == 1883)
        #expect(remote.effective.stateDirectory == directory.file("state"))
        #expect(remote.effective.throttle.maxRateHz == 1 && remote.version == 3)
        let note = remote.loadNote ?? ""
        for key in ["device.id", "mqtt.host", "mqtt.port", "state.directory"] { #expect(note.contains(key), "\(note)") }
        #expect(note.contains("cannot be changed remotely"), "\(note)")
    }
}
