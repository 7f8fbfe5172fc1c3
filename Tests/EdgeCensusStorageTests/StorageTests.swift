import EdgeCensusStorage
import EdgeCensusTestSupport
import Foundation
import Synchronization
import Testing

@Suite("State files: atomic replacement, faults by kind, and the faults in force")
struct StorageTests {
    @Test(
        "a replacement on a full disk fails with ENOSPC, names the file, and leaves the old content and no temporary file",
        .tags(.root))
    func fullDisk() throws {
        guard let disk = try SmallFilesystem.mountedOrSkipped(bytes: 64 * 1024) else { return }
        let path = disk.file("sequence")
        try AtomicFile.replace(path, with: "41 0123456789abcdef\n")
        disk.fill()
        do {
            try AtomicFile.replace(path, with: "42 0123456789abcdef\n")
            Issue.record("a full disk took the write")
        } catch {
            #expect(error.cause == "ENOSPC" && error.path == path + ".tmp", "\(error)")
            #expect(error.description.contains("free space"), "\(error)")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "41 0123456789abcdef\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        disk.free()
        try AtomicFile.replace(path, with: "42 0123456789abcdef\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "42 0123456789abcdef\n")
    }

    @Test("a folder deleted is made again, parents too; a path through a file is ENOTDIR")
    func folders() throws {
        let directory = try TemporaryDirectory()
        try StateFolder.ensure(directory.file("a/b/c"))
        var isFolder: ObjCBool = false
        #expect(
            FileManager.default.fileExists(atPath: directory.file("a/b/c"), isDirectory: &isFolder)
                && isFolder.boolValue)
        try writeFile(directory.file("plain"), Data("x".utf8))
        #expect(throws: StorageFault.self) { try StateFolder.ensure(directory.file("plain/state")) }
        do { try StateFolder.ensure(directory.file("plain/state")) } catch {
            #expect(error.cause == "ENOTDIR", "\(error)")
        }
    }

    @Test("a fault is reported once when it begins, again only when its cause changes, and once when it clears")
    func onceper() {
        let changes = Mutex<[StorageHealth.Change]>([])
        let health = StorageHealth(clock: { 100 }) { change in changes.withLock { $0.append(change) } }
        let full = StorageFault(path: "/var/lib/edgecensus/sequence.tmp", code: ENOSPC, operation: "write")
        for _ in 0..<5 { health.failed("window numbers", full, consequence: "in memory") }
        #expect(health.current.map(\.fault.cause) == ["ENOSPC"])
        let readOnly = StorageFault(path: "/var/lib/edgecensus/sequence.tmp", code: EROFS, operation: "create")
        health.failed("window numbers", readOnly, consequence: "in memory")
        health.succeeded("window numbers")
        health.succeeded("window numbers")
        let seen = changes.withLock { $0 }
        #expect(seen.count == 3, "\(seen)")
        guard seen.count == 3, case .began(let first) = seen[0], case .began(let second) = seen[1],
            case .cleared(let cleared) = seen[2]
        else { return }
        #expect(first.fault.cause == "ENOSPC" && second.fault.cause == "EROFS" && cleared.fault.cause == "EROFS")
        #expect(second.since == 100)
        #expect(health.current.isEmpty)
    }
}
