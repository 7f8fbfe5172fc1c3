import EdgeCensusBuffer
import EdgeCensusStorage
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Ring file: every byte it cannot read is reported")
struct RingFileDamageTests {
    /// A ring of `count` pending records of 300 bytes, its bytes, and each record's offset.
    static func ring(_ directory: TemporaryDirectory, count: Int = 10) throws -> (
        path: String, bytes: [UInt8], offsets: [Int]
    ) {
        let path = directory.file("buffer.ring")
        do {
            let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
            for sequence in 1...UInt64(count) {
                try ring.append(sequence: sequence, payload: RingFileTests.payload(sequence))
            }
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (path, bytes, (1...UInt64(count)).map { RingFile.locate(sequence: $0, in: bytes)! })
    }

    @Test("an intact ring reports nothing skipped")
    func intact() throws {
        let directory = try TemporaryDirectory()
        let (path, _, _) = try Self.ring(directory)
        let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        #expect(ring.recovery.losses == nil && ring.recovery.note == nil)
        #expect(ring.pendingSequences == Array(1...10))
    }

    @Test(
        "a flipped bit in a record's magic: the window is gone, and its bytes are reported unreadable with the number missing"
    )
    func flippedMagic() throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, offsets) = try Self.ring(directory)
        bytes[offsets[4]] ^= 0x01  // window 5
        try writeFile(path, Data(bytes))
        let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        #expect(ring.pendingSequences == [1, 2, 3, 4, 6, 7, 8, 9, 10])
        #expect(ring.recovery.unreadableBytes == offsets[5] - offsets[4], "\(ring.recovery)")
        #expect(ring.recovery.missingNumbers == 1)
        #expect(ring.recovery.note?.contains("hold no readable record") == true, "\(ring.recovery.note ?? "no note")")
    }

    @Test(
        "a flipped bit in the last record's magic is reported too: a zero marker follows every record, so what follows the last one is damage"
    )
    func flippedLastMagic() throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, offsets) = try Self.ring(directory)
        bytes[offsets[9]] ^= 0x01  // window 10, the last
        try writeFile(path, Data(bytes))
        let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        #expect(ring.pendingSequences == Array(1...9))
        #expect(ring.recovery.unreadableBytes > 0 && ring.recovery.losses != nil, "\(ring.recovery)")
    }

    @Test("a ring file cut short is reported with the bytes missing, also when read through a copy")
    func cutShort() throws {
        let directory = try TemporaryDirectory()
        let (path, bytes, offsets) = try Self.ring(directory)
        try writeFile(path, Data(bytes.prefix(offsets[7])))
        let inspected = try RingFile.check(path: path)
        #expect(inspected.pendingSequences == Array(1...7))
        #expect(inspected.recovery.cutShortBytes == 64 * 1024 - offsets[7], "\(inspected.recovery)")
        #expect(inspected.recovery.note?.contains("cut short") == true)
    }

    @Test("a zeroed 4 KiB block: every window in it is gone, and the zeroed bytes are reported")
    func zeroedBlock() throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, _) = try Self.ring(directory, count: 40)
        for index in 8192..<12288 { bytes[index] = 0 }
        try writeFile(path, Data(bytes))
        let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        #expect(ring.pendingCount < 40)
        #expect(ring.recovery.zeroedBytes == 4096 && ring.recovery.unreadableBytes > 4096, "\(ring.recovery)")
        #expect(ring.recovery.missingNumbers == 40 - ring.pendingCount)
        let inspect = try ProcessRunner.run(TestPaths.executable, ["buffer", "inspect", path])
        #expect(inspect.status == 0 && inspect.standardOutput.contains("(4096 zeroed)"), "\(inspect.standardOutput)")
    }

    @Test(
        "a CRC-valid record numbered 18446744073709551615 is skipped as out of range, and the ring goes on from its real last number"
    )
    func outOfRangeSequence() throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, offsets) = try Self.ring(directory, count: 3)
        // Renumber window 2 to UInt64.max, with a CRC that matches.
        let offset = offsets[1]
        withUnsafeBytes(of: UInt64.max.littleEndian) { bytes.replaceSubrange((offset + 12)..<(offset + 20), with: $0) }
        let length = Int(bytes[offset + 8]) | Int(bytes[offset + 9]) << 8
        let crc = CRC32C.checksum(
            Array(bytes[(offset + 24)..<(offset + 24 + length)]),
            continuing: CRC32C.checksum(Array(bytes[offset..<(offset + 20)])))
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((offset + 20)..<(offset + 24), with: $0) }
        try writeFile(path, Data(bytes))
        let ring = try RingFile(path: path, capacity: 64 * 1024, sync: .never)
        #expect(ring.recovery.outOfRange == 1 && ring.pendingSequences == [1, 3] && ring.lastSequence == 3)
        try ring.append(sequence: 4, payload: RingFileTests.payload(4))
        #expect(throws: RingFile.BufferError.self) { try ring.append(sequence: UInt64.max, payload: [1]) }
    }
}

@Suite("Offline buffer: the ring while the disk takes it, memory while it refuses")
struct OfflineBufferTests {
    @Test("the ring file deleted with its folder is made again at the next window, with every window it held")
    func deletedRingIsMadeAgain() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state/buffer.ring")
        let buffer = OfflineBuffer(path: path, capacity: 64 * 1024, sync: .never)
        for sequence in 1...4 {
            buffer.append(sequence: UInt64(sequence), payload: RingFileTests.payload(UInt64(sequence)))
        }
        buffer.acknowledge(sequence: 1)
        try FileManager.default.removeItem(atPath: directory.file("state"))
        buffer.append(sequence: 5, payload: RingFileTests.payload(5))
        #expect(buffer.pendingCount == 4 && buffer.memoryCount == 0)
        #expect(try RingFile.scan(path: path) == [2, 3, 4, 5])
    }

    @Test(
        "a filesystem too small for the ring: windows wait in memory, the fault names the file and ENOSPC, and nothing is lost",
        .tags(.root))
    func tooSmallForTheRing() throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 64 * 1024) else { return }
        let reports = LockedList<StorageHealth.Change>()
        let health = StorageHealth { reports.append($0) }
        let buffer = OfflineBuffer(path: disk.file("buffer.ring"), capacity: 1_048_576, sync: .always, health: health)
        #expect(
            health.current.first?.fault.cause == "ENOSPC"
                && health.current.first?.fault.path == disk.file("buffer.ring"),
            "\(health.current)")
        for sequence in 1...5 {
            buffer.append(sequence: UInt64(sequence), payload: RingFileTests.payload(UInt64(sequence)))
        }
        #expect(buffer.pendingCount == 5 && buffer.memoryCount == 5 && reports.items.count == 1)
        #expect(buffer.firstPending(skipping: { _ in false }) == 1 && buffer.payload(of: 3) == RingFileTests.payload(3))
        buffer.acknowledge(sequence: 1)
        #expect(buffer.pendingCount == 4 && buffer.lastSequence == 5)
    }

    @Test("memory over its bound drops the oldest windows and counts them")
    func memoryBound() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file("state"), Data("a file where the folder should be".utf8))
        let buffer = OfflineBuffer(
            path: directory.file("state/buffer.ring"), capacity: 64 * 1024, sync: .never, memoryLimit: 3_000)
        var dropped: [UInt64] = []
        for sequence in 1...20 {
            if let lost = buffer.append(sequence: UInt64(sequence), payload: RingFileTests.payload(UInt64(sequence))) {
                dropped += Array(lost.firstSequence...lost.lastSequence)
            }
        }
        #expect(buffer.memoryCount == 10 && dropped == Array(1...10) && buffer.droppedTotal == 10)
        // The folder can be made again: the memory windows go to the ring, oldest first.
        try FileManager.default.removeItem(atPath: directory.file("state"))
        buffer.append(sequence: 21, payload: RingFileTests.payload(21))
        #expect(
            try buffer.memoryCount == 0 && RingFile.scan(path: directory.file("state/buffer.ring")) == Array(11...21))
    }
}

@Suite("A read-only state directory")
struct ReadOnlyStateTests {
    @Test(
        "a read-only filesystem: the buffer keeps windows in memory and the fault names the file and EROFS; once writable, they go to the ring",
        .tags(.root))
    func readOnly() throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 1_048_576) else { return }
        try disk.setReadOnly(true)
        let health = StorageHealth { _ in }
        let buffer = OfflineBuffer(
            path: disk.file("state/buffer.ring"), capacity: 64 * 1024, sync: .always, health: health)
        for sequence in 1...3 {
            buffer.append(sequence: UInt64(sequence), payload: RingFileTests.payload(UInt64(sequence)))
        }
        #expect(buffer.memoryCount == 3)
        #expect(
            health.current.first?.fault.cause == "EROFS"
                && health.current.first?.fault.path.hasPrefix(disk.path) == true, "\(health.current)")
        #expect(health.current.first?.fault.advice.contains("read-only") == true)
        try disk.setReadOnly(false)
        buffer.append(sequence: 4, payload: RingFileTests.payload(4))
        #expect(buffer.memoryCount == 0 && health.current.isEmpty)
        #expect(try RingFile.scan(path: disk.file("state/buffer.ring")) == [1, 2, 3, 4])
    }
}
