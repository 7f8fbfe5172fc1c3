import EdgeCensusFleet
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `FleetSurvey` reads what a real broker retains for each device.
@Suite("Surveying a fleet on a real broker", .tags(.broker), .serialized)
struct FleetSurveyTests {
    @Test("every device with a retained document under the prefix is found, other topics and prefixes are not")
    func findsDevices() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await Subscriber(port: broker.port, topics: [])
        defer { publisher.stop() }
        let retained: [(String, String)] = [
            ("edgecensus/hall/status", "online"),
            (
                "edgecensus/hall/config/state",
                #"{"schema":"edgecensus.config-state/1","config_version":2,"config":{},"overrides":{}}"#
            ),
            ("edgecensus/yard/status", "offline"),
            (
                "edgecensus/gate/config/state",
                #"{"schema":"edgecensus.config-state/1","config_version":0,"config":{},"overrides":{}}"#
            ),
            ("edgecensus/cleared/status", "stopped"),
            ("edgecensus/cleared/status", ""),
            ("edgecensus/hall/counts/extra", "{}"),
            ("elsewhere/roof/status", "online"),
        ]
        for (topic, text) in retained {
            _ = try await publisher.client.publish(MQTTMessage(topic: topic, text: text, qos: 1, retain: true))
        }
        // Generous bounds: a loaded machine (the whole suite at once) may take seconds to connect.
        let survey = FleetSurvey(
            settings: .loopback(port: broker.port, clientID: "survey"), prefix: "edgecensus/", quietPeriod: 2,
            timeout: 60)
        let reports = try await survey.run()
        #expect(reports.map(\.device) == ["gate", "hall", "yard"])
        #expect(reports.map(\.status) == [nil, "online", "offline"])
        #expect(reports.map(\.configVersion) == [0, 2, nil])
        #expect(survey.split(topic: "edgecensus/hall/config/state")! == ("hall", "config/state"))
        #expect(survey.split(topic: "edgecensus/hall/counts") == nil)
    }

    @Test("a burst of retained messages larger than an agent's event buffer loses none: 3 000 devices, each found")
    func burst() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await Subscriber(port: broker.port, topics: [])
        defer { publisher.stop() }
        let devices = 3000, client = publisher.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<devices {
                group.addTask {
                    try await client.publish(
                        MQTTMessage(topic: "edgecensus/d\(index)/status", text: "online", qos: 1, retain: true))
                }
            }
            try await group.waitForAll()
        }
        let reports = try await FleetSurvey(
            settings: .loopback(port: broker.port, clientID: "survey"), prefix: "edgecensus",
            quietPeriod: 2, timeout: 60
        ).run()
        #expect(reports.count == devices)
        #expect(reports.allSatisfy { $0.status == "online" })
    }

    @Test("a broker that is not there is an error naming it, after the timeout")
    func noBroker() async throws {
        let port = try MosquittoBroker.freePort()
        let survey = FleetSurvey(settings: .loopback(port: port, clientID: "survey"), prefix: "edgecensus", timeout: 1)
        await #expect {
            _ = try await survey.run()
        } throws: { error in
            "\(error)".contains("could not read the fleet from the broker 127.0.0.1:\(port) within 1 s")
        }
    }
}
