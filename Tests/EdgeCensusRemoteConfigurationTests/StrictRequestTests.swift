import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusRemoteConfiguration
import EdgeCensusTestSupport
import Foundation
import Testing

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
