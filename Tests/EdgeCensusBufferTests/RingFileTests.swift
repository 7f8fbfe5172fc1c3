import EdgeCensusBuffer
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Ring file")
struct RingFileTests {
    static func payload(_ sequence: UInt64, size: Int = 300) -> [UInt8] {
        let text = "{\"seq\":\(sequence),\"people\":\(sequence % 7)}"
        return Array((text + String(repeating: " ", count: max(0, size - text.utf8.count))).utf8)
    }

    @Test("CRC-32C matches the standard check value")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("records stay until acknowledged in order, and survive reopening")
    func appendAcknowledgeReopen() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("ring")
        do {
            let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
            for sequence in 1...5 {
                try ring.append(sequence: UInt64(sequence), payload: Self.payload(UInt64(sequence)))
            }
            try ring.acknowledge(sequence: 1)
            try ring.acknowledge(sequence: 3)  // out of order: stays until 2 goes
            #expect(ring.pendingSequences == [2, 4, 5])
        }
        let reopened = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        // 3 was acknowledged out of order: that is on disk too, and it does not come back.
        #expect(try reopened.pendingRecords().map(\.sequence) == [2, 4, 5])
        #expect(try reopened.pendingRecords().first?.payload == Self.payload(2))
        #expect(reopened.recovery.damaged == 0 && reopened.recovery.checkpointValid && reopened.recovery.note == nil)
        #expect(reopened.lastSequence == 5)
        #expect(throws: RingFile.BufferError.self) { try reopened.append(sequence: 5, payload: [1]) }
    }

    @Test("a ring whose every record was acknowledged reopens empty and remembers its last sequence number")
    func everythingAcknowledgedReopensEmpty() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("ring")
        for run in 0..<3 {
            let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
            #expect(ring.pendingCount == 0, "run \(run): \(ring.pendingSequences) came back")
            #expect(ring.lastSequence == UInt64(run * 3))
            for sequence in UInt64(run * 3 + 1)...UInt64(run * 3 + 3) {
                try ring.append(sequence: sequence, payload: Self.payload(sequence))
                try ring.acknowledge(sequence: sequence)
            }
        }
        let inspected = try RingFile.snapshot(path: path)
        #expect(inspected.pendingCount == 0 && inspected.lastSequence == 9 && inspected.recovery.damaged == 0)
    }

    @Test("a full ring drops exactly the oldest records, says which, and keeps counting them after a restart")
    func fullRingDropsOldest() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("ring")
        let capacity = RingFile.minimumCapacity  // 4 KiB of records: 12 records of 328 bytes
        var drops: [RingFile.Dropped] = []
        do {
            let ring = try RingFile(path: path, capacity: capacity, sync: .never)
            for sequence in 1...30 {
                if let dropped = try ring.append(sequence: UInt64(sequence), payload: Self.payload(UInt64(sequence))) {
                    drops.append(dropped)
                }
            }
            let pending = ring.pendingSequences
            #expect(pending == Array(UInt64(31 - pending.count)...30), "\(pending)")
            #expect(pending.count == 12)
            #expect(drops.reduce(0) { $0 + $1.count } == 18 && ring.droppedTotal == 18)
            #expect(drops.first?.firstSequence == 1 && drops.last?.lastSequence == 18)
        }
        let reopened = try RingFile(path: path, capacity: capacity, sync: .never)
        #expect(reopened.pendingSequences == Array(19...30))
        #expect(reopened.droppedTotal == 18)
        #expect(try reopened.pendingRecords().map(\.payload) == (19...30).map { Self.payload(UInt64($0)) })
    }

    @Test(
        "recovery survives thousands of truncations, bit flips and garbage, keeping every intact record and inventing none"
    )
    func fuzzRecovery() throws {
        let directory = try TemporaryDirectory()
        let original = directory.file("original")
        let capacity = 16 * 1024
        var written: [UInt64: [UInt8]] = [:]
        do {
            let ring = try RingFile(path: original, capacity: capacity, sync: .never)
            var generator = SplitMix64(seed: 1)
            for sequence in UInt64(1)...60 {
                let payload = Self.payload(sequence, size: Int.random(in: 40...700, using: &generator))
                written[sequence] = payload
                try ring.append(sequence: sequence, payload: payload)
                if sequence % 3 == 0 { try ring.acknowledge(sequence: sequence - 2) }
            }
        }
        let pristine = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        let baseline = try RingFile(path: original, capacity: capacity, sync: .never)
        let records = try baseline.pendingRecords()
        #expect(!records.isEmpty)
        // Where each pending record lies in the file, to tell intact records from touched ones.
        let spans: [UInt64: Range<Int>] = records.reduce(into: [:]) { spans, record in
            let header = RingFile.locate(sequence: record.sequence, in: pristine)
            if let header { spans[record.sequence] = header..<(header + 24 + record.payload.count) }
        }
        #expect(spans.count == records.count)
        let damagedPath = directory.file("damaged")
        var generator = SplitMix64(seed: 42)
        for round in 0..<2000 {
            var bytes = pristine
            var touched: [Range<Int>] = []
            switch round % 4 {
            case 0:  // truncated
                let length = Int.random(in: 0...bytes.count, using: &generator)
                touched.append(length..<bytes.count)
                bytes.removeLast(bytes.count - length)
            case 1:  // bit flips
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
                    touched.append(at..<(at + 1))
                }
            case 2:  // a run of garbage
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                let length = min(Int.random(in: 1...2000, using: &generator), bytes.count - at)
                for index in at..<(at + length) { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
                touched.append(at..<(at + length))
            default:  // a zeroed page, as a torn write leaves
                let at = Int.random(in: 0..<(bytes.count / 512), using: &generator) * 512
                let length = min(512, bytes.count - at)
                for index in at..<(at + length) { bytes[index] = 0 }
                touched.append(at..<(at + length))
            }
            try Data(bytes).write(to: URL(fileURLWithPath: damagedPath))
            let ring = try RingFile(path: damagedPath, capacity: capacity, sync: .never)
            let recovered = try ring.pendingRecords()
            // Nothing invented: every record recovered is one that was written, byte for byte.
            for record in recovered {
                #expect(written[record.sequence] == record.payload, "round \(round): seq \(record.sequence) altered")
            }
            // Nothing intact lost (when a checkpoint survives; without one, more comes back, never less).
            let recoveredSequences = Set(recovered.map(\.sequence))
            for (sequence, span) in spans where !touched.contains(where: { $0.overlaps(span) }) {
                #expect(recoveredSequences.contains(sequence), "round \(round): intact seq \(sequence) lost")
            }
            #expect(recovered.map(\.sequence) == recovered.map(\.sequence).sorted())
            try FileManager.default.removeItem(atPath: damagedPath)
        }
    }
}
