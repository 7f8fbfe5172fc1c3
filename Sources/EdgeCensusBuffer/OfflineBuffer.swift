public import EdgeCensusStorage
import Foundation

/// The windows not yet acknowledged, as the agent keeps them: in the ring file
/// while the disk takes them, in memory (up to a bound) while it refuses. Nothing
/// here stops counting and nothing is lost without a report:
///
/// - a ring that cannot be opened or made (a full or tiny filesystem, a read-only
///   one, no permission) is tried again at every window; meanwhile windows wait in
///   memory;
/// - a ring file deleted while the agent runs (its state directory removed) is
///   made again at once, with every window the deleted one held;
/// - a write the disk refuses leaves that window in memory; memory windows go to
///   the ring, oldest first, as soon as it takes writes again;
/// - memory over its bound drops the oldest windows, counted with the ring's drops.
///
/// Each fault is reported once when it begins and once when it clears, through
/// `StorageHealth`, with the file, the system's cause and what is done meanwhile.
public final class OfflineBuffer {
    /// The role named in storage reports.
    public static let role = "offline buffer"

    public let path: String
    public let capacity: Int
    public let sync: RingFile.SyncPolicy
    /// Bytes of window documents kept in memory at most while the ring cannot take them.
    public let memoryLimit: Int
    /// What recovery found in the ring file when it was first opened (nil when it could not be).
    public private(set) var recovery: RingFile.Recovery?
    private var ring: RingFile?
    private var memory: [RingFile.Record] = []
    private var memoryBytes = 0
    private var droppedFromMemory: UInt64 = 0
    /// The highest number ever handed to the buffer, here or in a ring given up.
    private var highestSequence: UInt64 = 0
    private let health: StorageHealth?

    /// Opens (or makes) the ring at `path`; never fails: where the disk refuses,
    /// the buffer starts in memory and the fault is reported to `health`.
    public init(
        path: String, capacity: Int, sync: RingFile.SyncPolicy, memoryLimit: Int? = nil, health: StorageHealth? = nil
    ) {
        self.path = path
        self.capacity = capacity
        self.sync = sync
        self.memoryLimit = memoryLimit ?? min(capacity, 8 * 1_048_576)
        self.health = health
        if let opened = openRing(consequence: "windows wait in memory until it can be made") {
            ring = opened
            recovery = opened.recovery
            highestSequence = opened.lastSequence
        }
    }

    // MARK: - Reading the state

    /// Windows not yet acknowledged, in the ring and in memory.
    public var pendingCount: Int { (ring?.pendingCount ?? 0) + memory.count }
    /// Windows held in memory only, because the ring could not take them.
    public var memoryCount: Int { memory.count }
    /// Windows dropped because the buffer was full (the ring, or memory), over the file's life.
    public var droppedTotal: UInt64 { (ring?.droppedTotal ?? 0) + droppedFromMemory }
    /// The highest window number ever buffered (0 for a new buffer).
    public var lastSequence: UInt64 { max(highestSequence, ring?.lastSequence ?? 0) }

    /// The oldest pending window that `skip` does not exclude.
    public func firstPending(skipping skip: (UInt64) -> Bool) -> UInt64? {
        let inRing = ring?.firstPending(skipping: skip)
        let inMemory = memory.first { !skip($0.sequence) }?.sequence
        switch (inRing, inMemory) {
        case let (ring?, memory?): return min(ring, memory)
        case let (ring, memory): return ring ?? memory
        }
    }

    /// One pending window's document (nil when it is no longer buffered or cannot be read).
    public func payload(of sequence: UInt64) -> [UInt8]? {
        if let record = memory.first(where: { $0.sequence == sequence }) { return record.payload }
        return try? ring?.payload(of: sequence)
    }

    // MARK: - Writing

    /// Buffers a window. Returns the windows dropped to make room (the ring was
    /// full, or memory over its bound); never fails.
    @discardableResult
    public func append(sequence: UInt64, payload: [UInt8]) -> RingFile.Dropped? {
        highestSequence = max(highestSequence, sequence)
        var dropped: RingFile.Dropped?
        if let ring = usableRing() {
            dropped = moveMemory(into: ring)
            if memory.isEmpty {
                do {
                    dropped = merge(dropped, try ring.append(sequence: sequence, payload: payload))
                    health?.succeeded(Self.role)
                    return dropped
                } catch {
                    report(error, consequence: "windows wait in memory until it takes writes again")
                }
            }
        }
        memory.append(RingFile.Record(sequence: sequence, payload: payload))
        memoryBytes += payload.count
        while memoryBytes > memoryLimit, memory.count > 1 {
            let oldest = memory.removeFirst()
            memoryBytes -= oldest.payload.count
            droppedFromMemory += 1
            dropped = merge(
                dropped, RingFile.Dropped(count: 1, firstSequence: oldest.sequence, lastSequence: oldest.sequence))
        }
        return dropped
    }

    /// The broker has the window: it leaves the buffer. Where the ring cannot
    /// record that, it leaves it in this process all the same (a restart could send
    /// it again, which a consumer de-duplicates by its number).
    public func acknowledge(sequence: UInt64) {
        if let index = memory.firstIndex(where: { $0.sequence == sequence }) {
            memoryBytes -= memory.remove(at: index).payload.count
            return
        }
        do {
            try ring?.acknowledge(sequence: sequence)
        } catch {
            report(
                error,
                consequence: "acknowledgements are kept in memory; after a restart those windows may be sent again")
        }
    }

    // MARK: - The ring behind it

    /// The ring, made again when it is missing or its file was deleted.
    private func usableRing() -> RingFile? {
        if let ring, !ring.isDetached { return ring }
        let consequence =
            ring == nil
            ? "windows wait in memory until it can be made"
            : "the file was deleted; its windows are kept in memory until it can be made again"
        guard let fresh = openRing(consequence: consequence) else {
            // A deleted file still holds its windows for this process: keep them.
            if let ring {
                for record in (try? ring.pendingRecords()) ?? []
                where !memory.contains(where: { $0.sequence == record.sequence }) {
                    memory.append(record)
                    memoryBytes += record.payload.count
                }
                memory.sort { $0.sequence < $1.sequence }
                droppedFromMemory += ring.droppedTotal
                self.ring = nil
            }
            return nil
        }
        if let ring {
            // The deleted file's windows go first, into the new one.
            for record in (try? ring.pendingRecords()) ?? [] where record.sequence > fresh.lastSequence {
                do { try fresh.append(sequence: record.sequence, payload: record.payload) } catch {
                    memory.append(record)
                    memoryBytes += record.payload.count
                }
            }
            memory.sort { $0.sequence < $1.sequence }
            droppedFromMemory += ring.droppedTotal
        }
        ring = fresh
        return fresh
    }

    private func openRing(consequence: String) -> RingFile? {
        do {
            try StateFolder.ensure((path as NSString).deletingLastPathComponent)
            return try RingFile(path: path, capacity: capacity, sync: sync)
        } catch {
            report(error, consequence: consequence)
            return nil
        }
    }

    /// Memory windows into the ring, oldest first, while it takes them.
    private func moveMemory(into ring: RingFile) -> RingFile.Dropped? {
        var dropped: RingFile.Dropped?
        while let oldest = memory.first {
            guard oldest.sequence > ring.lastSequence else {
                // Below what the ring holds (numbers restarted): it stays in memory.
                break
            }
            do {
                dropped = merge(dropped, try ring.append(sequence: oldest.sequence, payload: oldest.payload))
            } catch {
                report(error, consequence: "windows wait in memory until it takes writes again")
                return dropped
            }
            memory.removeFirst()
            memoryBytes -= oldest.payload.count
        }
        return dropped
    }

    private func report(_ error: any Error, consequence: String) {
        let fault =
            (error as? StorageFault) ?? (error as? RingFile.BufferError)?.fault
            ?? StorageFault(path: path, code: EIO, operation: "write")
        health?.failed(Self.role, fault, consequence: consequence)
    }

    private func merge(_ first: RingFile.Dropped?, _ second: RingFile.Dropped?) -> RingFile.Dropped? {
        guard let first else { return second }
        guard let second else { return first }
        return RingFile.Dropped(
            count: first.count + second.count, firstSequence: min(first.firstSequence, second.firstSequence),
            lastSequence: max(first.lastSequence, second.lastSequence))
    }
}
