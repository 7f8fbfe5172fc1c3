import EdgeCensusBuffer
import EdgeCensusTestSupport
import Foundation
import Testing

/// The ring file against a plain model of it: random, seeded runs of appends,
/// acknowledgements (in and out of order), reopenings, crashes in the middle of a
/// write and a full ring. After every reopening the ring must hold exactly the
/// windows the model says are pending: none lost, none acknowledged coming back.
@Suite("Ring file against a model")
struct RingFileModelTests {
    /// What the ring should hold: every record still in it, oldest first, and which
    /// the broker has acknowledged. Acknowledged records leave from the front.
    struct Model {
        struct Record {
            var sequence: UInt64
            var payload: [UInt8]
            var acknowledged = false
        }

        var records: [Record] = []
        /// The highest sequence number handed out (as the agent's sequence file does, even for a window lost in a crash).
        var lastSequence: UInt64 = 0

        var pending: [UInt64] { records.filter { !$0.acknowledged }.map(\.sequence) }
        var payloads: [[UInt8]] { records.filter { !$0.acknowledged }.map(\.payload) }

        /// Bytes the ring needs for what it holds: from the oldest pending record to the newest.
        var span: Int { records.reduce(0) { $0 + RingFileModelTests.recordSize($1.payload) } }

        mutating func append(_ sequence: UInt64, _ payload: [UInt8]) {
            records.append(Record(sequence: sequence, payload: payload))
        }

        mutating func acknowledge(_ sequence: UInt64) {
            guard let index = records.firstIndex(where: { $0.sequence == sequence }) else { return }
            records[index].acknowledged = true
            records.removeFirst(records.prefix { $0.acknowledged }.count)
        }

        /// The ring was full: the records up to `sequence` left.
        mutating func drop(through sequence: UInt64) {
            records.removeAll { $0.sequence <= sequence }
        }

        /// Takes what recovery found when it is one of the outcomes a crash allows.
        mutating func adopt(pending found: [UInt64]) {
            let kept = Set(found)
            records.removeAll { !$0.acknowledged && !kept.contains($0.sequence) }
            records.removeFirst(records.prefix { $0.acknowledged }.count)
        }
    }

    static let capacity = 16 * 1024
    static let payloadSizes = 40...700
    static func recordSize(_ payload: [UInt8]) -> Int { (24 + payload.count + 7) & ~7 }
    static let largestRecord = (24 + payloadSizes.upperBound + 7) & ~7

    /// A payload whose bytes depend on its sequence number, so that a torn write
    /// never happens to complete a record with the bytes an earlier lap left there.
    static func payload(_ sequence: UInt64, size: Int) -> [UInt8] {
        var letters = SplitMix64(seed: sequence)
        let text = Array("{\"seq\":\(sequence),\"fill\":\"".utf8)
        return text + (0..<max(0, size - text.count)).map { _ in UInt8(ascii: "a") + UInt8(letters.next() % 26) }
    }

    /// A crash armed for the next append or acknowledgement: the process dies during
    /// its `write`-th write (counting from 0), which keeps a random subset of its
    /// 512-byte sectors. An operation with fewer writes completes normally.
    struct ArmedCrash {
        var write: Int
        var seen = 0
        var fired: (offset: Int, count: Int, kept: [Range<Int>])?
    }

    final class CrashBox: @unchecked Sendable {
        // @unchecked: used by one test case's own thread only.
        var armed: ArmedCrash?
        var generator: SplitMix64
        init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    }

    enum Failure: Error, CustomStringConvertible {
        case mismatch(String)
        var description: String { if case .mismatch(let text) = self { return text }; return "" }
    }

    /// What one run went through, so that a run that never met a crash or a full ring cannot pass unnoticed.
    struct Coverage {
        var reopenings = 0, crashes = 0, outOfOrderAcknowledgements = 0, drops = 0, steps = 0
    }

    /// One seeded run of `steps` operations.
    static func run(seed: UInt64, steps: Int, sync: RingFile.SyncPolicy) throws -> Coverage {
        var coverage = Coverage()
        let directory = try TemporaryDirectory()
        let path = directory.file("ring")
        var generator = SplitMix64(seed: seed)
        let box = CrashBox(seed: seed &* 31 &+ 7)
        var model = Model()
        var trail: [String] = []
        func fail(_ what: String) -> Failure {
            .mismatch(
                "seed \(seed), step \(trail.count): \(what)\nlast steps:\n" + trail.suffix(12).joined(separator: "\n"))
        }
        func open() throws -> RingFile {
            let ring = try RingFile(path: path, capacity: capacity, sync: sync)
            ring.crashDuringWrite = { offset, count in
                guard var crash = box.armed else { return nil }
                defer { box.armed = crash }
                guard crash.seen == crash.write else { crash.seen += 1; return nil }
                // Whole sectors survive a power cut, each one or not.
                var kept: [Range<Int>] = []
                var start = 0
                while start < count {
                    let end = min(count, ((offset + start) / 512 + 1) * 512 - offset)
                    if Bool.random(using: &box.generator) { kept.append(start..<end) }
                    start = end
                }
                crash.fired = (offset, count, kept)
                return kept
            }
            return ring
        }
        /// Reopens and checks the pending set against `expected` (or any of `allowed` after a crash).
        func reopen(allowed: [[UInt64]]? = nil) throws -> RingFile {
            coverage.reopenings += 1
            if allowed != nil { coverage.crashes += 1 }
            let ring = try open()
            let found = ring.pendingSequences
            if let allowed {
                guard allowed.contains(found) else {
                    throw fail("after the crash the ring holds \(found); allowed: \(allowed)")
                }
                model.adopt(pending: found)
            } else if found != model.pending {
                throw fail("after reopening the ring holds \(found); the model \(model.pending)")
            }
            let payloads = try ring.pendingRecords().map(\.payload)
            guard payloads == model.payloads else { throw fail("a pending record's bytes changed") }
            return ring
        }

        var ring = try open()
        for _ in 0..<steps {
            coverage.steps += 1
            let roll = Int.random(in: 0..<100, using: &generator)
            let crash = roll >= 93
            if crash {
                box.armed = ArmedCrash(write: Int.random(in: 0..<3, using: &generator))
            }
            let doAppend = crash ? Bool.random(using: &generator) : roll < 45
            if doAppend || (roll >= 45 && roll < 50 && !crash) {
                // An append, or (5 %) a burst of appends that fills the ring.
                let count = doAppend ? 1 : Int.random(in: 10...40, using: &generator)
                for _ in 0..<count {
                    let sequence = model.lastSequence + 1
                    model.lastSequence = sequence
                    let payload = payload(sequence, size: Int.random(in: payloadSizes, using: &generator))
                    let roomy = model.span + 3 * largestRecord <= capacity - 4096
                    trail.append("append \(sequence) (\(payload.count) bytes)")
                    do {
                        let dropped = try ring.append(sequence: sequence, payload: payload)
                        if let dropped {
                            guard !roomy else { throw fail("dropped \(dropped) while there was room") }
                            let oldest = Array(model.pending.prefix(dropped.count))
                            guard oldest.first == dropped.firstSequence, oldest.last == dropped.lastSequence else {
                                throw fail("dropped \(dropped), not the oldest pending \(oldest)")
                            }
                            model.drop(through: dropped.lastSequence)
                            coverage.drops += dropped.count
                        }
                        model.append(sequence, payload)
                        if box.armed != nil { box.armed = nil }
                    } catch is RingFile.SimulatedCrash {
                        let fired = box.armed?.fired
                        box.armed = nil
                        // The record is there when every byte of it was kept (the write may also
                        // carry the zero marker that follows a record).
                        let whole =
                            fired.map { write in
                                let size = recordSize(payload)
                                return write.count >= size
                                    && (0..<size).allSatisfy { byte in write.kept.contains { $0.contains(byte) } }
                            } ?? false
                        trail.append(
                            "  crashed in a write of \(fired?.count ?? 0) bytes at \(fired?.offset ?? 0), kept \(fired?.kept ?? [])"
                        )
                        // Some oldest records may have been dropped for room (only when room was short);
                        // the new record is there exactly when its write completed.
                        let pendingBefore = model.pending
                        let drops = roomy ? [0] : Array(0...pendingBefore.count)
                        let allowed = drops.map { Array(pendingBefore.dropFirst($0)) + (whole ? [sequence] : []) }
                        if whole { model.append(sequence, payload) }
                        ring = try reopen(allowed: allowed)
                        break
                    }
                    if model.pending != ring.pendingSequences {
                        throw fail("in memory the ring holds \(ring.pendingSequences); the model \(model.pending)")
                    }
                }
            } else if roll < 80 || crash {
                // An acknowledgement: the oldest (in order), any pending one, or one that is not pending.
                let pending = model.pending
                let sequence: UInt64
                let kind = Int.random(in: 0..<10, using: &generator)
                if pending.isEmpty || kind == 9 {
                    sequence = UInt64.random(in: 0...(model.lastSequence + 2), using: &generator)
                } else if kind < 5 {
                    sequence = pending[0]
                } else {
                    sequence = pending.randomElement(using: &generator)!
                    if sequence != pending[0] { coverage.outOfOrderAcknowledgements += 1 }
                }
                trail.append("acknowledge \(sequence)")
                do {
                    try ring.acknowledge(sequence: sequence)
                    box.armed = nil
                    model.acknowledge(sequence)
                } catch is RingFile.SimulatedCrash {
                    box.armed = nil
                    trail.append("  crashed while recording it")
                    let without = pending.filter { $0 != sequence }
                    ring = try reopen(allowed: [pending, without])
                }
            } else if roll < 93 {
                trail.append("reopen")
                ring = try reopen()
            }
        }
        trail.append("final reopen")
        _ = try reopen()
        return coverage
    }

    static func check(seed: UInt64, steps: Int, sync: RingFile.SyncPolicy) {
        do {
            let coverage = try run(seed: seed, steps: steps, sync: sync)
            #expect(coverage.steps == steps)
            #expect(coverage.crashes >= 10 && coverage.reopenings >= 30, "\(coverage)")
            #expect(coverage.drops > 0 && coverage.outOfOrderAcknowledgements >= 50, "\(coverage)")
        } catch let failure as Failure {
            Issue.record(Comment(rawValue: failure.description))
        } catch {
            Issue.record(error)
        }
    }

    @Test(
        "random appends, acknowledgements, reopenings, crashes and a full ring: after every reopening the ring holds exactly what the model holds",
        arguments: UInt64(1)...12)
    func modelRun(seed: UInt64) {
        Self.check(seed: seed, steps: 1000, sync: .never)
    }

    @Test("the same with an fsync after every write")
    func modelRunSynced() {
        Self.check(seed: 100, steps: 600, sync: .always)
    }
}
