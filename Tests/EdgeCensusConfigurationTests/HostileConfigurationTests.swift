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
        let error = thrownError(ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
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
        let error = thrownError(ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
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
        let error = thrownError(ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
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
            let error = thrownError(ConfigurationError.self) { try AgentConfiguration.load(file: path) }
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
