import Foundation

/// A real filesystem of a few kilobytes (a tmpfs mounted on a temporary folder), so
/// that a test meets a full disk the way the agent would: `ENOSPC` from the kernel.
/// Mounting needs root (as CI runs); `isAvailable` says whether it can be had here.
public final class SmallFilesystem {
    public let path: String
    private let filler: String

    /// Root can mount; others skip the tests that need it, saying so.
    public static var isAvailable: Bool { getuid() == 0 }

    /// A filesystem of `bytes`, or nil (having said that the test skips) where mounting needs a root we are not.
    public static func mountedOrSkipped(bytes: Int) throws -> SmallFilesystem? {
        guard isAvailable else {
            print("skipped: mounting a small filesystem needs root")
            return nil
        }
        return try SmallFilesystem(bytes: bytes)
    }

    public init(bytes: Int) throws {
        path = NSTemporaryDirectory() + "edgecensus-small-fs-" + UUID().uuidString
        filler = path + "/.filler"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = try ProcessRunner.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", path])
        guard mount.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw MountError(description: "cannot mount a \(bytes)-byte tmpfs on \(path): \(mount.standardError)")
        }
    }

    deinit {
        _ = try? ProcessRunner.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes a filler file until the filesystem is full.
    public func fill() {
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0x5A, count: 4096)
        while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
        var byte: UInt8 = 0
        while write(descriptor, &byte, 1) > 0 {}
    }

    /// Frees what `fill` took.
    public func free() { unlink(filler) }

    /// Remounts it read-only (EROFS for every write), or read-write again.
    public func setReadOnly(_ readOnly: Bool) throws {
        let result = try ProcessRunner.run("/bin/mount", ["-o", "remount,\(readOnly ? "ro" : "rw")", path])
        guard result.status == 0 else {
            throw MountError(description: "cannot remount \(path): \(result.standardError)")
        }
    }
}

public struct MountError: Error, CustomStringConvertible {
    public var description: String
}
