import Foundation

/// A file in the state directory that could not be written or read: which file,
/// which system error (its symbolic name, `ENOSPC`, `EROFS`, `EACCES`, …), and what
/// the operator can do about it. Callers compare `cause` (the kind); the
/// description is for people.
public struct StorageFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or folder concerned.
    public var path: String
    /// The `errno` of the failing call (`EIO` when the call said no more).
    public var code: Int32
    /// What was being done: "write", "create", "open", "read", "extend".
    public var operation: String

    public init(path: String, code: Int32, operation: String) {
        self.path = path
        self.code = code
        self.operation = operation
    }

    /// The error's symbolic name: `ENOSPC`, `EROFS`, `EACCES`, `ENOENT`, `EIO`, … (`E<number>` for others).
    public var cause: String { Self.names[code] ?? "E\(code)" }

    /// The system's own words for the error: "No space left on device".
    public var reason: String { String(cString: strerror(code)) }

    /// What an operator can do about it.
    public var advice: String {
        switch code {
        case ENOSPC, EDQUOT: "free space on its filesystem"
        case EROFS: "the filesystem is read-only: remount it read-write or move state.directory"
        case EACCES, EPERM: "give the service's user write access to it"
        case ENOENT, ENOTDIR: "the folder is missing and could not be made: check state.directory"
        case EIO: "the disk reports an input/output error: check it (dmesg)"
        default: "check the disk and state.directory"
        }
    }

    public var description: String { "cannot \(operation) \(path): \(cause) (\(reason)); \(advice)" }

    /// The fault of the call that just failed (reads `errno` now).
    public static func current(path: String, operation: String) -> StorageFault {
        StorageFault(path: path, code: errno == 0 ? EIO : errno, operation: operation)
    }

    private static let names: [Int32: String] = [
        ENOSPC: "ENOSPC", EROFS: "EROFS", EACCES: "EACCES", EPERM: "EPERM", ENOENT: "ENOENT", ENOTDIR: "ENOTDIR",
        EIO: "EIO", EDQUOT: "EDQUOT", EISDIR: "EISDIR", ELOOP: "ELOOP", EMFILE: "EMFILE", ENFILE: "ENFILE",
        EFBIG: "EFBIG", ENAMETOOLONG: "ENAMETOOLONG", EEXIST: "EEXIST", EINVAL: "EINVAL", EBADF: "EBADF",
    ]
}

/// Makes a folder and its parents when they are missing (a state directory deleted
/// while the agent runs is made again); mode 0755.
public enum StateFolder {
    public static func ensure(_ folder: String) throws(StorageFault) {
        guard !folder.isEmpty else { return }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue { return }
        var made = ""
        for part in folder.split(separator: "/", omittingEmptySubsequences: true) {
            made += (made.isEmpty && !folder.hasPrefix("/") ? "" : "/") + part
            if mkdir(made, 0o755) != 0 && errno != EEXIST {
                throw StorageFault.current(path: made, operation: "create the folder")
            }
        }
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw StorageFault(path: folder, code: ENOTDIR, operation: "create the folder")
        }
    }
}
