import EdgeCensusCounting
import EdgeCensusStorage
import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("Window numbers: (epoch, seq) never repeats, whatever the state directory does")
struct SequenceStoreTests {
    @Test("the epoch is kept across restarts; a file written before epochs goes on from its number in a new one")
    func epochAcrossRestarts() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        let first = SequenceStore(path: path, now: 0).next()
        let second = SequenceStore(path: path, now: 0).next()
        #expect(first.sequence == 1 && second.sequence == 2 && first.epoch == second.epoch)
        #expect(SequenceStore.isEpoch(first.epoch))
        try writeFile(path, Data("41\n".utf8))
        let upgraded = SequenceStore(path: path, now: 0)
        #expect(upgraded.recoveryNote == nil)
        let next = upgraded.next()
        #expect(next.sequence == 42 && SequenceStore.isEpoch(next.epoch))
        #expect(SequenceStore(path: path, now: 0).next() == WindowNumber(epoch: next.epoch, sequence: 43))
    }

    @Test("the state directory deleted while counting is made again, and numbers go on in the same epoch")
    func directoryDeleted() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state/sequence")
        let store = SequenceStore(path: path, now: 0)
        let before = store.next()
        try FileManager.default.removeItem(atPath: directory.file("state"))
        let after = store.next()
        #expect(after == WindowNumber(epoch: before.epoch, sequence: 2) && store.fault == nil)
        #expect(SequenceStore(path: path, now: 0).next() == WindowNumber(epoch: before.epoch, sequence: 3))
    }

    @Test(
        "a full disk: numbers go on in memory in a new epoch, the fault is reported once, and a restart on the old file repeats no (epoch, seq)",
        .tags(.root))
    func fullDisk() throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 64 * 1024) else { return }
        let path = disk.file("sequence")
        let reports = LockedList<StorageHealth.Change>()
        let health = StorageHealth { reports.append($0) }
        let store = SequenceStore(path: path, now: 0, health: health)
        var handedOut = [store.next(), store.next()]
        disk.fill()
        for _ in 0..<3 { handedOut.append(store.next()) }
        #expect(handedOut.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(
            handedOut[2].epoch != handedOut[1].epoch && handedOut[2...].allSatisfy { $0.epoch == handedOut[2].epoch })
        #expect(store.fault?.cause == "ENOSPC")
        #expect(reports.items.count == 1 && health.current.first?.fault.cause == "ENOSPC", "\(reports.items)")
        // The process dies now; the file still says 2 in the first epoch. A restart on the
        // still-full disk goes on from 3, and cannot write either: a third epoch.
        let restarted = SequenceStore(path: path, now: 0)
        let again = restarted.next()
        #expect(!handedOut.contains(again), "\(again) was handed out before")
        #expect(again.sequence == 3 && again.epoch != handedOut[0].epoch && again.epoch != handedOut[2].epoch)
        // The disk is freed: the next write succeeds and clears the fault.
        disk.free()
        let cleared = store.next()
        #expect(cleared == WindowNumber(epoch: handedOut[2].epoch, sequence: 6) && store.fault == nil)
        #expect(reports.items.count == 2 && health.current.isEmpty)
        #expect(SequenceStore(path: path, now: 0).next() == WindowNumber(epoch: handedOut[2].epoch, sequence: 7))
    }

    @Test(
        "a sequence file at the top of UInt64's range starts a new epoch instead of trapping",
        arguments: [
            "18446744073709551615", "18446744073709551616", "9007199254740992", "-1", "1e3", "0x10", "",
        ])
    func outOfRange(text: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        try writeFile(path, Data((text + "\n").utf8))
        let store = SequenceStore(path: path, now: 1_767_258_000)
        #expect(store.recoveryNote?.contains(path) == true, "\(store.recoveryNote ?? "no note")")
        let number = store.next()
        #expect(number.sequence == 1_767_258_001)
        #expect(number.sequence <= SequenceStore.largestSequence)
    }

    @Test("the largest number is followed by 1 in a new epoch")
    func largest() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("sequence")
        try writeFile(path, Data("\(SequenceStore.largestSequence) 0123456789abcdef\n".utf8))
        let store = SequenceStore(path: path, now: 0)
        let next = store.next()
        #expect(next.sequence == 1 && next.epoch != "0123456789abcdef")
        #expect(!store.continueAfter(UInt64.max))
    }
}
