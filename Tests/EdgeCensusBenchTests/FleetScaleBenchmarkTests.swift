import EdgeCensusBench
import EdgeCensusFleet
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// The fleet scale benchmark on a small fleet: what it reports holds (its timings
/// are only printed, never asserted: the machine is shared).
@Suite("The fleet scale benchmark", .tags(.broker), .serialized)
struct FleetScaleBenchmarkTests {
    @Test("simulated devices announce and publish as agents do; the survey finds each, the bulk change reaches each")
    func smallFleet() async throws {
        let broker = try MosquittoBroker()
        var simulation = FleetSimulation(
            devices: 12, prefix: "sim", discoveryPrefix: "sim-ha", speed: 600, simulatedSeconds: 300)
        simulation.connections = 3
        let watcher = try await Subscriber(
            port: broker.port, topics: ["sim/sim-7/#", "sim-ha/+/edgecensus_sim-7/+/config"])
        defer { watcher.stop() }
        var benchmark = FleetScaleBenchmark(simulation: simulation, brokerPID: nil)
        benchmark.bulkDevices = 10
        let text = try await benchmark.run(settings: .loopback(port: broker.port, clientID: "bench"))
        #expect(text.contains("fleet status: 12 of 12 devices"), "\(text)")
        #expect(text.contains("fleet config set to 10 devices: 10 applied"), "\(text)")
        // Per device per day, from the schedule: a window (counts + state) and a health report a minute.
        #expect(text.contains("per device per day: 4320 messages"), "\(text)")
        // What one device sent is what an agent sends: 5 windows, 5 health reports, status, discovery, config/state.
        #expect(await watcher.inbox.on("sim/sim-7/counts").count == 5)
        #expect(await watcher.inbox.on("sim/sim-7/health").count == 5)
        #expect(await watcher.inbox.on("sim/sim-7/status").map(\.text) == ["online"])
        #expect(await watcher.inbox.messages.filter { $0.topic.hasPrefix("sim-ha/") }.count == 53)
        let layout = TopicLayout(prefix: "sim", device: "sim-7", discoveryPrefix: "sim-ha")
        let payloads = await watcher.inbox.messages.compactMap { message in
            SchemaValidator.schema(forTopic: message.topic, layout: layout).map {
                (label: message.topic, schema: $0, payload: message.payload)
            }
        }
        // counts, state and health 5 each, status, 53 discovery configs, config/state (and again once the change lands).
        let expected = 5 * 3 + 1 + 53 + 1
        #expect(payloads.count >= expected)
        #expect(try SchemaValidator.problems(payloads).isEmpty)
    }
}
