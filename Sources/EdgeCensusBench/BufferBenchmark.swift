public import EdgeCensusBuffer
import EdgeCensusCounting
import EdgeCensusLogging
public import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation

/// Figures for the offline buffer: append throughput with and without fsync (and
/// the bytes written per window), recovery time of a full ring, and the time to
/// replay a backlog to a broker. A measurement, not a test.
public enum BufferBenchmark {
    /// The benchmark's publisher and delivery say nothing.
    static let silent = AgentLogger.silent

    static func document(_ sequence: UInt64) -> [UInt8] {
        var window = CountWindow(
            sequence: sequence, start: 1_767_258_000 + Double(sequence) * 60, end: 1_767_258_060 + Double(sequence) * 60
        )
        window.people = 12
        window.gender = [.female: 7, .male: 5]
        window.ageGroups = [.from25to32: 8, .from38to43: 4]
        window.dwells = [4, 6.5, 12]
        return Array(TelemetryDocuments.counts(window, device: "bench", kAnonymity: 0, replayed: false).utf8)
    }

    /// Appends `count` windows with the given sync policy, each acknowledged right
    /// after it when `acknowledging` (as a connected agent does); returns a report line.
    public static func append(directory: String, count: Int, sync: RingFile.SyncPolicy, acknowledging: Bool = false)
        throws -> String
    {
        let path = directory + "/bench-\(UUID().uuidString).ring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ring = try RingFile(path: path, capacity: 16 * 1_048_576, sync: sync)
        let documents = (1...UInt64(count)).map(document)  // made before the clock starts
        let written = ring.bytesWritten
        let start = Date()
        for (index, payload) in documents.enumerated() {
            try ring.append(sequence: UInt64(index + 1), payload: payload)
            if acknowledging { try ring.acknowledge(sequence: UInt64(index + 1)) }
        }
        let seconds = Date().timeIntervalSince(start)
        return String(
            format: "%@, fsync %@: %8.0f windows/s (%d in %.2f s), %d bytes written per window (%d-byte document)",
            acknowledging ? "append + acknowledge" : "append", sync.rawValue, Double(count) / seconds, count, seconds,
            (ring.bytesWritten - written) / count, document(1).count)
    }

    /// Fills a ring of `megabytes` until it wraps, then times opening (recovering) it.
    public static func recovery(directory: String, megabytes: Int, runs: Int) throws -> String {
        let path = directory + "/bench-\(UUID().uuidString).ring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var records = 0
        do {
            let ring = try RingFile(path: path, capacity: megabytes * 1_048_576, sync: .never)
            var sequence: UInt64 = 0
            let payload = document(1)
            while ring.droppedTotal == 0 {
                sequence += 1
                try ring.append(sequence: sequence, payload: payload)
            }
            records = ring.pendingCount
        }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = Date()
            let ring = try RingFile(path: path, capacity: megabytes * 1_048_576, sync: .never)
            times.append(Date().timeIntervalSince(start) * 1000)
            precondition(ring.pendingCount == records)
        }
        times.sort()
        return String(
            format: "recovery of a full %d MiB ring (%d windows): median %.0f ms, slowest %.0f ms over %d opens",
            megabytes, records, times[times.count / 2], times.last ?? 0, runs)
    }

    /// Buffers `count` windows, then times replaying them all to the broker (acknowledged).
    public static func replay(directory: String, count: Int, settings: MQTTSettings) async throws -> String {
        let path = directory + "/bench-\(UUID().uuidString).ring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ring = OfflineBuffer(path: path, capacity: 16 * 1_048_576, sync: .never)
        let payload = document(1)
        for sequence in 1...UInt64(count) { ring.append(sequence: sequence, payload: payload) }
        let publisher = try TelemetryPublisher(
            settings: settings, layout: TopicLayout(prefix: "edgecensus-bench", device: "bench"),
            kAnonymity: 0, discovery: false, version: "bench", logger: Self.silent)
        let delivery = WindowDelivery(ring: ring, publisher: publisher, replayRateHz: 1_000_000, logger: Self.silent)
        publisher.add(delivery)
        let start = Date()
        let running = Task { try await publisher.run() }
        while await delivery.backlog(now: 0).windows > 0 {
            try await Task.sleep(for: .milliseconds(10))
            if Date().timeIntervalSince(start) > 600 { break }
        }
        let seconds = Date().timeIntervalSince(start)
        let left = await delivery.backlog(now: 0).windows
        await publisher.shutdown()
        _ = await running.result
        return String(
            format:
                "replay of %d buffered windows to %@:%d: %.2f s (%.0f windows/s, each acknowledged before removal)%@",
            count, settings.host, settings.port, seconds, Double(count - left) / seconds,
            left > 0 ? ", \(left) left" : "")
    }
}
