import EdgeCensusConfiguration
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Hostile configuration files: a clear refusal, in bounded time and memory")
struct HostileConfigurationTests {
    @Test("a base-60 number too large for any integer key is refused as out of range, naming the key, instead of trapping", arguments: [
        "windows:\n  k_anonymity: 1:1:1:1:1:1:1:1:1:1:1:1\n",
        "mqtt:\n  port: -1:1:1:1:1:1:1:1:1:1:1:1\n",
        "windows:\n  length: 99999999999999999999\n",
        "buffer:\n  size_mib: 0x1ffffffffffffffffff\n",
    ])
    func baseSixtyOverflow(yaml: String) {
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.parse(yaml: yaml) }
        #expect(error?.description.contains("not a whole number in range") == true || error?.description.contains("out of range") == true
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

    @Test("nesting thousands of levels deep is refused before it is composed", arguments: [
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
        try FileManager.default.createSymbolicLink(atPath: directory.file("loop-a"), withDestinationPath: directory.file("loop-b"))
        try FileManager.default.createSymbolicLink(atPath: directory.file("loop-b"), withDestinationPath: directory.file("loop-a"))
        try writeFile(directory.file("large.yaml"), Data(repeating: UInt8(ascii: "#"), count: 300 * 1024))
        try writeFile(directory.file("latin1.yaml"), Data([0x64, 0x65, 0x76, 0x69, 0x63, 0x65, 0x3A, 0x20, 0xE9, 0x0A]))
        for (path, problem) in [(directory.path, "a folder"), ("/dev/null", "not a regular file"), (directory.file("loop-a"), "loop of symbolic links"),
                                (directory.file("large.yaml"), "307200 bytes, more than the 262144"), (directory.file("latin1.yaml"), "not UTF-8 text (an invalid byte at offset 8)"),
                                (directory.file("none.yaml"), "configuration file not found")] {
            let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(file: path) }
            #expect(error?.description.contains(problem) == true && error?.description.contains(path) == true, "\(path): \(String(describing: error))")
        }
    }
}
