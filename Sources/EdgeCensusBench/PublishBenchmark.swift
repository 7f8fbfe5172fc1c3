import EdgeCensusCounting
public import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation

/// Publish throughput to a broker: real counts documents at QoS 1, first one at a
/// time (each waits for its PUBACK: the round trip), then with several in flight
/// (as the agent does when replaying a backlog). A measurement, not a test.
public struct PublishBenchmark: Sendable {
    public struct Figure: Sendable {
        public var inFlight: Int
        public var messages: Int
        public var seconds: Double
        /// Per-message time from publish to PUBACK, in milliseconds.
        public var medianMilliseconds: Double
        public var p95Milliseconds: Double
        public var messagesPerSecond: Double { Double(messages) / max(seconds, 1e-9) }
    }

    public var payloadBytes: Int
    public var figures: [Figure]

    public static func measure(settings: MQTTSettings, messages: Int, inFlight: [Int], topic: String) async throws
        -> PublishBenchmark
    {
        let client = try MQTTClient(settings: settings)
        defer { client.stop() }
        try client.start()
        // A benchmark does not wait out a broker that is not there.
        for await event in client.events {
            if event == .connected { break }
            if case .refused(let reason) = event {
                throw MQTTError(.refused, operation: "connect to \(settings.host):\(settings.port)", reason: reason)
            }
            if case .problem(let problem) = event {
                throw MQTTError(
                    .connection, operation: "connect to \(settings.host):\(settings.port)", reason: problem.text)
            }
        }
        var window = CountWindow(sequence: 1, start: 1_767_258_000, end: 1_767_258_060)
        window.people = 12
        window.gender = [.female: 7, .male: 5]
        let payload = Array(TelemetryDocuments.counts(window, device: "bench", kAnonymity: 0, replayed: false).utf8)
        var figures: [Figure] = []
        for width in inFlight {
            figures.append(
                try await run(
                    client: client, message: MQTTMessage(topic: topic, payload: payload, qos: 1),
                    count: messages, inFlight: max(1, width)))
        }
        return PublishBenchmark(payloadBytes: payload.count, figures: figures)
    }

    static func run(client: MQTTClient, message: MQTTMessage, count: Int, inFlight: Int) async throws -> Figure {
        let start = Date()
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            // `inFlight` publishers, each sending its share one after the other.
            for lane in 0..<inFlight {
                let share = count / inFlight + (lane < count % inFlight ? 1 : 0)
                group.addTask {
                    var times: [Double] = []
                    for _ in 0..<share {
                        let sent = Date()
                        let ack = try await client.publish(message)
                        guard ack.isSuccess else {
                            throw MQTTError(.refused, operation: "publish", reason: "reason code \(ack.reasonCode)")
                        }
                        times.append(Date().timeIntervalSince(sent) * 1000)
                    }
                    return times
                }
            }
            var all: [Double] = []
            for try await times in group { all += times }
            return all.sorted()
        }
        let seconds = Date().timeIntervalSince(start)
        func percentile(_ fraction: Double) -> Double {
            latencies.isEmpty
                ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count - 1) * fraction).rounded()))]
        }
        return Figure(
            inFlight: inFlight, messages: latencies.count, seconds: seconds,
            medianMilliseconds: percentile(0.5), p95Milliseconds: percentile(0.95))
    }

    public var text: String {
        var lines = ["QoS 1 publishes of a \(payloadBytes)-byte counts document:"]
        for figure in figures {
            lines.append(
                String(
                    format:
                        "  %2d in flight: %7.0f messages/s (%d in %.2f s); publish to PUBACK median %.2f ms, p95 %.2f ms",
                    figure.inFlight, figure.messagesPerSecond, figure.messages, figure.seconds,
                    figure.medianMilliseconds, figure.p95Milliseconds))
        }
        return lines.joined(separator: "\n")
    }
}
