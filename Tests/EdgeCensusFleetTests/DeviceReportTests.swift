import EdgeCensusCounting
import EdgeCensusFleet
import EdgeCensusTelemetry
import Foundation
import Testing

/// One device's line in `fleet status`, read from the documents the agent publishes.
@Suite("A device's report from its retained documents")
struct DeviceReportTests {
    let time = 1_767_258_060.0  // 2026-01-01T09:01:00Z

    func health(people: Int, suppressed: Int) -> [UInt8] {
        Array(
            TelemetryDocuments.health(
                .init(
                    uptime: 60, version: "0.1.0", cameraState: "camera /dev/video0", configuredRate: 2,
                    effectiveRate: 1.9,
                    inferenceMilliseconds: 48, cpuPercent: 21.44, residentMemory: 90 << 20, temperature: 51.2,
                    bufferedWindows: 3,
                    oldestUnsentSeconds: 120, droppedWindows: 1,
                    lastHour: .init(people: people, windows: 60, suppressedWindows: suppressed)),
                device: "hall", at: time
            ).utf8)
    }

    @Test("the agent's own status, state, health and config/state documents fill every column")
    func readsTheAgentsDocuments() {
        var window = CountWindow(sequence: 41, start: time - 60, end: time)
        window.people = 7
        var report = DeviceReport(device: "hall")
        report.absorb(kind: "status", payload: Array("online".utf8))
        report.absorb(
            kind: "state",
            payload: Array(TelemetryDocuments.counts(window, device: "hall", kAnonymity: 1, replayed: false).utf8))
        report.absorb(kind: "health", payload: health(people: 17, suppressed: 2))
        report.absorb(
            kind: "config/state",
            payload: Array(
                #"{"schema":"edgecensus.config-state/1","config_version":4,"config":{},"overrides":{}}"#.utf8))
        #expect(report.status == "online")
        #expect(report.lastWindowEnd == time && report.lastWindowSequence == 41)
        #expect(report.healthTime == time && report.version == "0.1.0" && report.camera == "camera /dev/video0")
        #expect(report.peopleLastHour == 17 && report.suppressedWindowsLastHour == 2)
        #expect(report.bufferedWindows == 3 && report.droppedWindows == 1)
        #expect(report.cpuPercent == 21.4 && report.temperature == 51.2 && report.configVersion == 4)
        #expect(report.problems.isEmpty)
    }

    @Test("a cleared retained message clears its column; a document that is not JSON is named, not guessed at")
    func clearedAndDamaged() {
        var report = DeviceReport(device: "hall")
        report.absorb(kind: "status", payload: Array("stopped".utf8))
        report.absorb(kind: "status", payload: [])
        report.absorb(kind: "health", payload: Array("{not json".utf8))
        #expect(report.status == nil && report.healthTime == nil)
        #expect(report.problems == ["health: not a JSON object"])
    }

    @Test("the table shows ages, hidden windows and a count by status; JSON gives the same figures in seconds")
    func formats() throws {
        var online = DeviceReport(device: "hall")
        online.absorb(kind: "status", payload: Array("online".utf8))
        online.absorb(kind: "health", payload: health(people: 17, suppressed: 2))
        var gone = DeviceReport(device: "yard")
        gone.absorb(kind: "status", payload: Array("offline".utf8))
        let report = FleetStatusReport(devices: [online, gone], prefix: "edgecensus", now: time + 30)
        let lines = report.table.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("DEVICE"))
        #expect(
            lines[1].contains("hall") && lines[1].contains("online") && lines[1].contains("17 (+2 hidden)")
                && lines[1].contains("21%") && lines[1].contains("51°C") && lines[1].contains("30 s ago"))
        #expect(lines[2].contains("yard") && lines[2].contains("offline"))
        #expect(lines[3] == "2 device(s): 1 offline, 1 online")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "edgecensus.fleet-status/1")
        let devices = try #require(json["devices"] as? [[String: Any]])
        #expect(devices.map { $0["device"] as? String } == ["hall", "yard"])
        #expect(devices[0]["health_age_seconds"] as? Double == 30 && devices[0]["people_last_hour"] as? Int == 17)
        #expect(devices[1]["people_last_hour"] is NSNull && devices[1]["status"] as? String == "offline")
    }

    @Test("ages read as an operator says them")
    func ages() {
        #expect(FleetStatusReport.age(12) == "12 s")
        #expect(FleetStatusReport.age(600) == "10 min")
        #expect(FleetStatusReport.age(3 * 3600) == "3 h")
        #expect(FleetStatusReport.age(5 * 86400) == "5 d")
        #expect(FleetStatusReport.age(-3) == "0 s")
    }
}
