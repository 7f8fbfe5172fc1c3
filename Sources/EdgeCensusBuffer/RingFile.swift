public import EdgeCensusStorage
import Foundation

/// A fixed-size file of records, written round and round: the windows not yet
/// acknowledged by the broker, so that none is lost while it is away, across
/// restarts and power cuts, with the disk use bounded.
///
/// Layout: a 4 KiB header with two checkpoint slots (written alternately, each with
/// its own CRC, so a torn write leaves the other intact), then the record region.
/// A record is a 24-byte header — magic `ECR1`, format version, payload length,
/// sequence number, CRC-32C over header and payload — the payload, and padding to
/// 8 bytes. A record never straddles the end of the file: a wrap marker sends
/// readers back to the start.
///
/// An acknowledgement is recorded in the record itself: its magic becomes `EACK`,
/// one aligned 4-byte write that a power cut cannot tear (it lies inside one
/// sector), so that an acknowledged window never comes back, whatever order the
/// acknowledgements came in. The CRC is checked as if the magic were still `ECR1`.
/// The checkpoint holds the oldest sequence number still wanted, the highest ever
/// written and the dropped count; it moves when a full ring drops records, before
/// their bytes are overwritten.
///
/// Recovery reads every place a record can start, keeps each intact record at or
/// above the checkpoint's floor, in sequence order (acknowledged ones only to know
/// where the ring ends), and counts the damaged ones: no byte pattern can stop it.
public final class RingFile {
    public enum SyncPolicy: String, Sendable, CaseIterable {
        /// fsync after every append and every checkpoint (the default: survives power cuts).
        case always
        /// Never fsync (a RAM disk, or tests): survives the process being killed, not a power cut.
        case never
    }

    public struct Record: Sendable, Equatable {
        public var sequence: UInt64
        public var payload: [UInt8]
    }

    /// Records that were overwritten because the ring was full.
    public struct Dropped: Sendable, Equatable {
        public var count: Int
        public var firstSequence: UInt64
        public var lastSequence: UInt64
    }

    /// What recovery found in an existing file.
    public struct Recovery: Sendable, Equatable {
        /// Pending (unacknowledged) records found.
        public var records: Int
        /// Records whose header was found but whose CRC or length was wrong (torn or damaged).
        public var damaged: Int
        public var checkpointValid: Bool
        public var note: String?
        /// Intact records whose number is out of range (0, or above `WindowNumberRange.largest`): skipped.
        public var outOfRange = 0
        /// Bytes between the oldest pending window and the write position that hold
        /// no intact record: the ring writes that stretch record after record, so
        /// these bytes held windows that are lost (a flipped bit, a zeroed block).
        public var unreadableBytes = 0
        /// Of `unreadableBytes`, those that are all zero (a block the disk gave back blank).
        public var zeroedBytes = 0
        /// Numbers missing between consecutive pending windows (lost, or never given
        /// to the ring: the agent's numbers can jump, as after a lost sequence file).
        public var missingNumbers = 0
        /// Bytes the file is short of the size its checkpoint recorded (cut short: windows at its end are lost).
        public var cutShortBytes = 0
        /// Bytes the file is longer than its checkpoint recorded (bytes inserted: what follows is out of place).
        public var extraBytes = 0
        /// Intact records off the writer's 8-byte grid (bytes inserted or removed before them): not read.
        public var misplacedRecords = 0

        public init(records: Int, damaged: Int, checkpointValid: Bool, note: String?) {
            self.records = records
            self.damaged = damaged
            self.checkpointValid = checkpointValid
            self.note = note
        }

        /// Every byte and number recovery could not account for, in words; nil when there is none.
        public var losses: String? {
            var parts: [String] = []
            if damaged > 0 { parts.append("\(damaged) damaged or torn record(s) skipped") }
            if outOfRange > 0 { parts.append("\(outOfRange) record(s) with a window number out of range skipped") }
            if unreadableBytes > 0 {
                parts.append(
                    "\(unreadableBytes) byte(s) among the pending windows hold no readable record"
                        + (zeroedBytes > 0 ? " (\(zeroedBytes) of them zeroed)" : "") + ": windows there are lost")
            }
            if missingNumbers > 0 { parts.append("\(missingNumbers) window number(s) missing between pending windows") }
            if cutShortBytes > 0 {
                parts.append(
                    "the file is \(cutShortBytes) bytes shorter than its checkpoint says: cut short, windows at its end are lost"
                )
            }
            if extraBytes > 0 {
                parts.append("the file is \(extraBytes) bytes longer than its checkpoint says: bytes were inserted")
            }
            if misplacedRecords > 0 {
                parts.append(
                    "\(misplacedRecords) intact record(s) out of place (bytes inserted or removed before them) not read"
                )
            }
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        }
    }

    public struct BufferError: Error, CustomStringConvertible {
        public var description: String
        /// The system error behind it, when the disk refused (a full disk, a read-only one, …).
        public var fault: StorageFault?

        public init(description: String, fault: StorageFault? = nil) {
            self.description = description
            self.fault = fault
        }

        init(_ fault: StorageFault) {
            self.init(description: fault.description, fault: fault)
        }
    }

    /// Thrown by a write that `crashDuringWrite` stopped: the process "died" there.
    package struct SimulatedCrash: Error {}

    /// Crash simulation for tests: called before each write with its file offset and
    /// length. An answer persists only those byte ranges of the write (relative to its
    /// start; a power cut keeps whole sectors) and then throws `SimulatedCrash`, after
    /// which the instance must be discarded, as a dead process would be.
    package var crashDuringWrite: ((_ offset: Int, _ count: Int) -> [Range<Int>]?)?

    static let headerSize = 4096
    static let slotOffsets = [0, 512]
    static let slotSize = 52
    static let recordHeaderSize = 24
    static let checkpointMagic: UInt32 = 0x4543_5243  // "CRCE" little endian: "ECRC"
    static let recordMagic: UInt32 = 0x4543_5231  // "ECR1"
    static let wrapMagic: UInt32 = 0x4543_5257  // "ECRW"
    /// An acknowledged record's magic: 10 bits away from `recordMagic`, so that no
    /// few flipped bits turn a pending record into an acknowledged one.
    static let acknowledgedMagic: UInt32 = 0x4B43_4145  // "EACK"
    static let formatVersion: UInt8 = 1
    /// The smallest useful ring: the header and a few records.
    public static let minimumCapacity = headerSize + 4096
    /// The largest record payload: a window's document is under 2 KiB.
    public static let largestPayload = 64 * 1024
    /// The largest ring file read: buffer.size_mib's 4096 MiB.
    public static let largestFile: UInt64 = 4096 * 1_048_576

    public let path: String
    /// The file as named to a person (`snapshot` reads a private copy of it).
    public private(set) var displayPath: String
    public let capacity: Int
    public let sync: SyncPolicy
    public private(set) var recovery: Recovery
    /// Windows overwritten because the ring was full, over the file's life.
    public private(set) var droppedTotal: UInt64 = 0
    /// Bytes written to the file since it was opened (records, markers, checkpoints).
    public private(set) var bytesWritten = 0

    private struct Entry {
        var sequence: UInt64
        var offset: Int
        var size: Int
        var length: Int
        var acknowledged = false
    }

    /// The records in the ring, oldest first: removing from the front is O(1) and
    /// finding a sequence number O(log n), so a backlog of tens of thousands stays cheap.
    private struct EntryQueue {
        private var storage: [Entry] = []
        private var start = 0
        /// Records not yet acknowledged.
        private(set) var pending = 0

        init(_ entries: [Entry] = []) {
            storage = entries
            pending = entries.count(where: { !$0.acknowledged })
        }

        var first: Entry? { start < storage.count ? storage[start] : nil }
        var last: Entry? { start < storage.count ? storage.last : nil }
        var isEmpty: Bool { start >= storage.count }
        var count: Int { storage.count - start }
        var all: ArraySlice<Entry> { storage[start...] }

        mutating func append(_ entry: Entry) {
            storage.append(entry)
            if !entry.acknowledged { pending += 1 }
        }

        mutating func removeFirst() -> Entry {
            let entry = storage[start]
            start += 1
            if !entry.acknowledged { pending -= 1 }
            if start > 1024 && start * 2 > storage.count {
                storage.removeFirst(start)
                start = 0
            }
            return entry
        }

        /// Marks a record acknowledged; false when it is not in the ring.
        mutating func acknowledge(_ sequence: UInt64) -> Bool {
            guard let index = index(of: sequence), !storage[index].acknowledged else { return false }
            storage[index].acknowledged = true
            pending -= 1
            return true
        }

        func entry(_ sequence: UInt64) -> Entry? { index(of: sequence).map { storage[$0] } }

        private func index(of sequence: UInt64) -> Int? {
            var low = start, high = storage.count
            while low < high {
                let middle = (low + high) / 2
                if storage[middle].sequence < sequence { low = middle + 1 } else { high = middle }
            }
            return low < storage.count && storage[low].sequence == sequence ? low : nil
        }
    }

    /// -1 once closed: an initializer that fails after opening closes it itself.
    private var descriptor: Int32
    private var entries = EntryQueue()
    private var tail: Int
    private var generation: UInt64 = 0
    /// The highest sequence number ever written, acknowledged or not.
    private var highestSequence: UInt64 = 0
    /// Every record written since the checkpoint said so is followed by a zero
    /// marker where room allows (true for rings made by this version).
    private var endMarkers = true

    /// Opens the ring at `path`, creating and preallocating it at `capacity` bytes if
    /// it is not there; an existing file is recovered (keeping its own size).
    public init(path: String, capacity: Int, sync: SyncPolicy = .always) throws {
        guard capacity >= Self.minimumCapacity else {
            throw BufferError(description: "a ring of \(capacity) bytes is too small; at least \(Self.minimumCapacity)")
        }
        self.path = path
        displayPath = path
        self.sync = sync
        let existed = FileManager.default.fileExists(atPath: path)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BufferError(StorageFault.current(path: path, operation: "open")) }
        var status = stat()
        fstat(descriptor, &status)
        let size = Int(status.st_size)
        if existed && size > 0 {
            // Recover what is there; a file cut short is extended back to the configured size.
            self.capacity = max(size, capacity)
            tail = Self.headerSize
            recovery = Recovery(records: 0, damaged: 0, checkpointValid: false, note: nil)
            // posix_fallocate returns its error rather than setting errno.
            if size < self.capacity, case let code = posix_fallocate(descriptor, 0, off_t(self.capacity)), code != 0 {
                closeDescriptor()
                throw BufferError(StorageFault(path: path, code: code, operation: "extend to \(self.capacity) bytes"))
            }
            recover(configuredCapacity: capacity, foundSize: size)
            // Extended: the checkpoint records the new size, so that the next recovery
            // does not take the added bytes for inserted ones.
            if size < self.capacity { try? writeCheckpoint() }
        } else {
            // New: preallocated, so that a full disk cannot stop it later.
            self.capacity = capacity
            tail = Self.headerSize
            recovery = Recovery(records: 0, damaged: 0, checkpointValid: true, note: nil)
            let code = posix_fallocate(descriptor, 0, off_t(capacity))
            guard code == 0 else {
                closeDescriptor()
                if !existed { unlink(path) }
                throw BufferError(StorageFault(path: path, code: code, operation: "preallocate \(capacity) bytes for"))
            }
            try writeCheckpoint()
        }
    }

    // A class whose initializer throws after every property is set is deinitialised:
    // the descriptor must be closed once only, or the close hits whatever file another
    // thread opened in between under the same number (seen: a ring read failing with
    // EBADF while a full disk made another ring's preallocation fail).
    private func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { closeDescriptor() }

    // MARK: - Reading the state

    /// Records not yet acknowledged, oldest first.
    public var pendingCount: Int { entries.pending }
    public var pendingSequences: [UInt64] { entries.all.filter { !$0.acknowledged }.map(\.sequence) }

    /// The oldest pending sequence number that `skip` does not exclude.
    public func firstPending(skipping skip: (UInt64) -> Bool) -> UInt64? {
        entries.all.first { !$0.acknowledged && !skip($0.sequence) }?.sequence
    }
    /// The highest sequence number ever written to the ring, acknowledged or not (0 for a new ring).
    public var lastSequence: UInt64 { highestSequence }
    /// Bytes between the oldest pending record and the write position.
    public var usedBytes: Int {
        guard let head = entries.first?.offset else { return 0 }
        return head < tail ? tail - head : (capacity - head) + (tail - Self.headerSize)
    }

    /// One record's payload, read back from the file (nil when it is no longer in the ring).
    public func payload(of sequence: UInt64) throws -> [UInt8]? {
        guard let entry = entries.entry(sequence) else { return nil }
        return try read(at: entry.offset + Self.recordHeaderSize, count: entry.length)
    }

    /// The pending records, oldest first, read back from the file.
    public func pendingRecords() throws -> [Record] {
        try entries.all.filter { !$0.acknowledged }.map { entry in
            Record(
                sequence: entry.sequence,
                payload: try read(at: entry.offset + Self.recordHeaderSize, count: entry.length))
        }
    }

    // MARK: - Writing

    /// Appends a record; when the ring is full, the oldest records are dropped (and
    /// returned) to make room. `sequence` must be above every sequence in the ring.
    @discardableResult
    public func append(sequence: UInt64, payload: [UInt8]) throws -> Dropped? {
        guard payload.count <= Self.largestPayload else {
            throw BufferError(
                description:
                    "a record of \(payload.count) bytes is over the \(Self.largestPayload) a window's document may have"
            )
        }
        let size = Self.padded(Self.recordHeaderSize + payload.count)
        guard size <= capacity - Self.headerSize else {
            throw BufferError(description: "a record of \(payload.count) bytes cannot fit a ring of \(capacity) bytes")
        }
        guard sequence > lastSequence else {
            throw BufferError(description: "sequence \(sequence) is not above the ring's last, \(lastSequence)")
        }
        guard WindowNumberRange.contains(sequence) else {
            throw BufferError(description: "sequence \(sequence) is out of range (1–\(WindowNumberRange.largest))")
        }
        var dropped: Dropped?
        func dropOldest() {
            let oldest = entries.removeFirst()
            if !oldest.acknowledged {
                droppedTotal += 1
                if dropped == nil {
                    dropped = Dropped(count: 0, firstSequence: oldest.sequence, lastSequence: oldest.sequence)
                }
                dropped?.count += 1
                dropped?.lastSequence = oldest.sequence
            }
        }
        var position = tail
        while true {
            guard let head = entries.first?.offset else {
                if position + size > capacity { position = Self.headerSize }
                break
            }
            if head >= position {
                // Pending records lie ahead of the write position (the ring has wrapped).
                if position + size <= head { break }
                dropOldest()
            } else if position + size <= capacity {
                break
            } else if Self.headerSize + size <= head {
                position = Self.headerSize
            } else {
                dropOldest()
            }
        }
        if dropped != nil {
            // The checkpoint moves past the dropped records before their bytes are overwritten.
            try writeCheckpoint()
        }
        if position != tail && capacity - tail >= 4 {
            try write(Self.bytes(of: Self.wrapMagic), at: tail)
        }
        // Eight zero bytes after the record where they overwrite nothing still wanted:
        // recovery then knows that whatever else follows the last record is damage.
        let limit = entries.first.map { $0.offset >= position ? $0.offset : capacity } ?? capacity
        let marked = position + size + 8 <= limit
        var record = [UInt8](repeating: 0, count: size + (marked ? 8 : 0))
        Self.put(Self.recordMagic, into: &record, at: 0)
        record[4] = Self.formatVersion
        Self.put(UInt32(payload.count), into: &record, at: 8)
        Self.put(sequence, into: &record, at: 12)
        record.replaceSubrange(Self.recordHeaderSize..<(Self.recordHeaderSize + payload.count), with: payload)
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(Array(record[0..<20])))
        Self.put(crc, into: &record, at: 20)
        try write(record, at: position)
        if sync == .always { fsync(descriptor) }
        entries.append(Entry(sequence: sequence, offset: position, size: size, length: payload.count))
        tail = position + size
        highestSequence = sequence
        if !endMarkers {
            // A ring from before end markers: say so in the checkpoint now that its last record has one.
            endMarkers = true
            try writeCheckpoint()
        }
        return dropped
    }

    /// The broker has the record: it is marked acknowledged on disk at once (it is
    /// never read back as pending, even when older records are still waiting), and
    /// its space is reused once every older record has left too.
    /// When the mark cannot be written (the disk refuses), the record still leaves
    /// the ring in this process, and the error is thrown: only a restart could send
    /// it again.
    public func acknowledge(sequence: UInt64) throws {
        guard let entry = entries.entry(sequence), !entry.acknowledged else { return }
        defer {
            _ = entries.acknowledge(sequence)
            while let first = entries.first, first.acknowledged { _ = entries.removeFirst() }
        }
        try write(Self.bytes(of: Self.acknowledgedMagic), at: entry.offset)
        if sync == .always { fsync(descriptor) }
    }

    /// True when the file at `path` is no longer this ring's: deleted (with its
    /// folder, perhaps) or replaced. Writes still land in the open file, which a
    /// restart would not find.
    public var isDetached: Bool {
        var open = stat(), named = stat()
        guard fstat(descriptor, &open) == 0 else { return true }
        guard open.st_nlink > 0, stat(path, &named) == 0 else { return true }
        return open.st_ino != named.st_ino || open.st_dev != named.st_dev
    }

    // MARK: - Checkpoint

    private func writeCheckpoint() throws {
        generation += 1
        let headSequence = entries.first?.sequence ?? (highestSequence + 1)
        var slot = [UInt8](repeating: 0, count: Self.slotSize)
        Self.put(Self.checkpointMagic, into: &slot, at: 0)
        slot[4] = Self.formatVersion
        slot[5] = endMarkers ? 1 : 0
        Self.put(generation, into: &slot, at: 8)
        Self.put(UInt64(capacity), into: &slot, at: 16)
        Self.put(headSequence, into: &slot, at: 24)
        Self.put(droppedTotal, into: &slot, at: 32)
        Self.put(highestSequence, into: &slot, at: 40)
        Self.put(CRC32C.checksum(Array(slot[0..<48])), into: &slot, at: 48)
        try write(slot, at: Self.slotOffsets[Int(generation % 2)])
        if sync == .always { fsync(descriptor) }
    }

    private struct Checkpoint {
        var generation: UInt64
        var headSequence: UInt64
        var droppedTotal: UInt64
        var lastSequence: UInt64
        var capacity: UInt64
        var endMarkers: Bool
    }

    private func readCheckpoint(at offset: Int) -> Checkpoint? {
        guard let slot = try? read(at: offset, count: Self.slotSize),
            Self.get(UInt32.self, from: slot, at: 0) == Self.checkpointMagic, slot[4] == Self.formatVersion,
            Self.get(UInt32.self, from: slot, at: 48) == CRC32C.checksum(Array(slot[0..<48]))
        else { return nil }
        return Checkpoint(
            generation: Self.get(UInt64.self, from: slot, at: 8),
            headSequence: Self.get(UInt64.self, from: slot, at: 24),
            droppedTotal: Self.get(UInt64.self, from: slot, at: 32),
            lastSequence: Self.get(UInt64.self, from: slot, at: 40),
            capacity: Self.get(UInt64.self, from: slot, at: 16), endMarkers: slot[5] == 1)
    }

    // MARK: - Recovery

    private func recover(configuredCapacity: Int, foundSize: Int) {
        let checkpoint = Self.slotOffsets.compactMap(readCheckpoint(at:)).max { $0.generation < $1.generation }
        generation = checkpoint?.generation ?? 0
        droppedTotal = checkpoint?.droppedTotal ?? 0
        endMarkers = checkpoint?.endMarkers ?? false
        let floor = checkpoint?.headSequence ?? 0
        let region = (try? read(at: 0, count: capacity)) ?? []
        var found: [Entry] = []
        /// Every intact record's size by its offset, whatever its number (for the walk below).
        var intact: [Int: Int] = [:]
        var damaged = 0, outOfRange = 0
        var offset = Self.headerSize
        var highest = min(checkpoint?.lastSequence ?? 0, WindowNumberRange.largest)
        while offset + Self.recordHeaderSize <= region.count {
            defer { offset += 8 }
            let magic = Self.get(UInt32.self, from: region, at: offset)
            guard magic == Self.recordMagic || magic == Self.acknowledgedMagic else { continue }
            let length = Int(Self.get(UInt32.self, from: region, at: offset + 8))
            let end = offset + Self.recordHeaderSize + length
            guard region[offset + 4] == Self.formatVersion, length <= Self.largestPayload, end <= region.count else {
                damaged += 1; continue
            }
            // The CRC was computed with the record's first magic, before any acknowledgement.
            let crc = region.withUnsafeBytes { bytes in
                CRC32C.checksum(
                    UnsafeRawBufferPointer(rebasing: bytes[(offset + Self.recordHeaderSize)..<end]),
                    continuing: CRC32C.checksum(
                        UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 20)]),
                        continuing: Self.recordMagicChecksum))
            }
            guard crc == Self.get(UInt32.self, from: region, at: offset + 20) else { damaged += 1; continue }
            let sequence = Self.get(UInt64.self, from: region, at: offset + 12)
            guard WindowNumberRange.contains(sequence) else { outOfRange += 1; continue }
            let size = Self.padded(Self.recordHeaderSize + length)
            intact[offset] = size
            highest = max(highest, sequence)
            if sequence >= floor {
                found.append(
                    Entry(
                        sequence: sequence, offset: offset, size: size, length: length,
                        acknowledged: magic == Self.acknowledgedMagic))
            }
        }
        highestSequence = highest
        found.sort { $0.sequence < $1.sequence }
        // One record per sequence number (the first found); acknowledged ones at the front have left.
        var queue = EntryQueue(
            found.reduce(into: []) { kept, entry in if kept.last?.sequence != entry.sequence { kept.append(entry) } })
        while let first = queue.first, first.acknowledged { _ = queue.removeFirst() }
        entries = queue
        tail = entries.last.map { $0.offset + $0.size } ?? Self.headerSize
        var recovered = Recovery(
            records: entries.pending, damaged: damaged, checkpointValid: checkpoint != nil, note: nil)
        recovered.outOfRange = outOfRange
        (recovered.unreadableBytes, recovered.zeroedBytes) = unreadableStretch(region, intact: intact)
        if endMarkers, let last = found.last {
            let after = unreadableAfter(last.offset + last.size, region, intact: intact)
            recovered.unreadableBytes += after.unreadable
            recovered.zeroedBytes += after.zeroed
        }
        if let written = checkpoint?.capacity, written <= UInt64(Int.max) {
            if written > UInt64(foundSize) { recovered.cutShortBytes = Int(written) - foundSize }
            if written < UInt64(foundSize) { recovered.extraBytes = foundSize - Int(written) }
        }
        recovered.misplacedRecords = misplacedRecords(region)
        let kept = entries.all.map(\.sequence)
        recovered.missingNumbers = zip(kept, kept.dropFirst()).reduce(0) { $0 + Int(min($1.1 - $1.0 - 1, 1 << 32)) }
        var notes: [String] = []
        if checkpoint == nil { notes.append("no valid checkpoint: every intact record was kept") }
        if let losses = recovered.losses { notes.append(losses) }
        if foundSize < configuredCapacity {
            notes.append("the file was \(foundSize) bytes, short of \(configuredCapacity) (cut short?): extended")
        } else if configuredCapacity != capacity {
            notes.append("the file is \(capacity) bytes, not the configured \(configuredCapacity): kept as it is")
        }
        recovered.note = notes.isEmpty ? nil : "\(path): " + notes.joined(separator: "; ")
        recovery = recovered
    }

    /// The bytes from the oldest pending record to the write position that no intact
    /// record or wrap marker covers (the writer lays that stretch record after
    /// record), and how many of them are zero.
    private func unreadableStretch(_ region: [UInt8], intact: [Int: Int]) -> (unreadable: Int, zeroed: Int) {
        guard let start = entries.all.first(where: { !$0.acknowledged })?.offset, region.count >= capacity else {
            return (0, 0)
        }
        var position = start, unreadable = 0, zeroed = 0
        var steps = 0
        let limit = capacity / 8 + 2
        while position != tail, steps < limit {
            steps += 1
            if let size = intact[position] {
                position += size
            } else if position + Self.recordHeaderSize > capacity
                || (position + 4 <= capacity && Self.get(UInt32.self, from: region, at: position) == Self.wrapMagic)
            {
                position = Self.headerSize
            } else {
                let end = min(position + 8, capacity)
                unreadable += end - position
                if region[position..<end].allSatisfy({ $0 == 0 }) { zeroed += end - position }
                position = end
            }
            if position >= capacity { position = Self.headerSize }
        }
        return (unreadable, zeroed)
    }

    /// Past the last record (which has a zero marker after it): anything before the
    /// next zero marker, intact record or the end is a damaged record. A wrap marker
    /// there means the writer went on at the start of the record region: a record
    /// must begin there, and what stands instead (zeros too) up to the next intact
    /// record is counted.
    private func unreadableAfter(_ start: Int, _ region: [UInt8], intact: [Int: Int]) -> (unreadable: Int, zeroed: Int)
    {
        let end = min(capacity, region.count)
        var position = start, unreadable = 0, zeroed = 0
        if position + 4 <= end, Self.get(UInt32.self, from: region, at: position) == Self.wrapMagic {
            position = Self.headerSize
            while position + 8 <= end, intact[position] == nil {
                let blank = region[position..<(position + 8)].allSatisfy { $0 == 0 }
                if !blank, Self.get(UInt32.self, from: region, at: position) == Self.wrapMagic { break }
                unreadable += 8
                if blank { zeroed += 8 }
                position += 8
            }
            return (unreadable, zeroed)
        }
        while position + 8 <= end, intact[position] == nil {
            let magic = Self.get(UInt32.self, from: region, at: position)
            if magic == Self.wrapMagic || region[position..<(position + 8)].allSatisfy({ $0 == 0 }) { break }
            unreadable += 8
            position += 8
        }
        return (unreadable, zeroed)
    }

    /// Intact records that do not start on the 8-byte grid the writer keeps: bytes
    /// were inserted or removed before them. They are not read as windows.
    private func misplacedRecords(_ region: [UInt8]) -> Int {
        var count = 0
        var offset = Self.headerSize
        while offset + Self.recordHeaderSize <= region.count {
            defer { offset += 1 }
            guard offset % 8 != 0, region[offset] == 0x31 || region[offset] == 0x45 else { continue }
            let magic = Self.get(UInt32.self, from: region, at: offset)
            guard magic == Self.recordMagic || magic == Self.acknowledgedMagic, region[offset + 4] == Self.formatVersion
            else { continue }
            let length = Int(Self.get(UInt32.self, from: region, at: offset + 8))
            let end = offset + Self.recordHeaderSize + length
            guard length <= Self.largestPayload, end <= region.count else { continue }
            let crc = region.withUnsafeBytes { bytes in
                CRC32C.checksum(
                    UnsafeRawBufferPointer(rebasing: bytes[(offset + Self.recordHeaderSize)..<end]),
                    continuing: CRC32C.checksum(
                        UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 20)]),
                        continuing: Self.recordMagicChecksum))
            }
            if crc == Self.get(UInt32.self, from: region, at: offset + 20) { count += 1 }
        }
        return count
    }

    /// Whether the file at `path` could be a ring at all: a regular file at least
    /// `minimumCapacity` long whose checkpoint or some record is intact.
    public static func check(path: String) throws -> RingFile {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw errno == ENOENT
                ? BufferError(description: "\(path): no such file")
                : BufferError(StorageFault.current(path: path, operation: "read"))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw BufferError(description: "\(path) is not a ring file: not a regular file")
        }
        guard Int(status.st_size) >= headerSize else {
            throw BufferError(
                description:
                    "\(path) is not a ring file: \(status.st_size) bytes, shorter than a ring's \(headerSize)-byte header"
            )
        }
        guard UInt64(status.st_size) <= largestFile else {
            throw BufferError(
                description:
                    "\(path) is not a ring file: \(status.st_size) bytes, more than the largest ring (buffer.size_mib at most 4096)"
            )
        }
        let ring = try snapshot(path: path)
        guard ring.recovery.checkpointValid || ring.lastSequence > 0 else {
            throw BufferError(
                description:
                    "\(path) is not a ring file (or one damaged beyond reading): neither checkpoint nor any record is intact"
            )
        }
        return ring
    }

    /// A ring file opened on a private copy, so that reading it (even a damaged one)
    /// never changes the original: for `buffer inspect`, `buffer export` and tests.
    public static func snapshot(path: String) throws -> RingFile {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw BufferError(
                description: "\(path): \(errno == ENOENT ? "no such file" : String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw BufferError(description: "\(path) is not a ring file: not a regular file")
        }
        let copy = NSTemporaryDirectory() + "edgecensus-ring-\(UUID().uuidString)"
        defer { unlink(copy) }  // an open descriptor keeps the copy readable
        do {
            try FileManager.default.copyItem(atPath: path, toPath: copy)
        } catch {
            throw BufferError(
                description: "\(path): cannot make a private copy to read (\(error.localizedDescription))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int) ?? 0
        do {
            let ring = try RingFile(path: copy, capacity: max(size, minimumCapacity), sync: .never)
            ring.displayPath = path
            ring.recovery.note = ring.recovery.note?.replacingOccurrences(of: copy, with: path)
            return ring
        } catch {
            throw BufferError(description: "\(path): \(error)".replacingOccurrences(of: copy, with: path))
        }
    }

    /// The pending sequence numbers of a ring file (none when there is no file).
    public static func scan(path: String) throws -> [UInt64] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try snapshot(path: path).pendingSequences
    }

    /// Where the record with this sequence number starts in a ring file's bytes, pending or acknowledged (for tests).
    public static func locate(sequence: UInt64, in bytes: [UInt8]) -> Int? {
        var offset = headerSize
        while offset + recordHeaderSize <= bytes.count {
            let magic = get(UInt32.self, from: bytes, at: offset)
            if magic == recordMagic || magic == acknowledgedMagic,
                get(UInt64.self, from: bytes, at: offset + 12) == sequence
            {
                return offset
            }
            offset += 8
        }
        return nil
    }

    // MARK: - Bytes

    static func padded(_ size: Int) -> Int { (size + 7) & ~7 }

    /// CRC-32C of a record's first magic: where a record's checksum starts.
    static let recordMagicChecksum = CRC32C.checksum(bytes(of: recordMagic))

    private func write(_ bytes: [UInt8], at offset: Int) throws {
        if let kept = crashDuringWrite?(offset, bytes.count) {
            for range in kept where !range.isEmpty {
                _ = bytes[range].withUnsafeBytes {
                    pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset + range.lowerBound))
                }
            }
            throw SimulatedCrash()
        }
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == bytes.count else {
            throw BufferError(
                written >= 0
                    ? StorageFault(path: path, code: ENOSPC, operation: "write")
                    : StorageFault.current(path: path, operation: "write"))
        }
        bytesWritten += bytes.count
    }

    private func read(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        guard got >= 0 else { throw BufferError(StorageFault.current(path: path, operation: "read")) }
        if got < count { bytes.removeLast(count - got) }
        return bytes
    }

    static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) {
            bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0)
        }
    }

    static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func get<T: FixedWidthInteger>(_ type: T.Type, from bytes: [UInt8], at offset: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<(offset + MemoryLayout<T>.size)]) }
        return T(littleEndian: value)
    }
}
