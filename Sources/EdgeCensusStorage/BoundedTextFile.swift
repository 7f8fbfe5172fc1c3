import Foundation

/// Reads a small text file a person wrote (a configuration, a password file) with
/// a size bound, and says exactly what is wrong when it cannot: missing, a folder,
/// a device or pipe, unreadable (and why), a symbolic link loop, too large, not
/// UTF-8. Never blocks on a FIFO and never reads more than `limit` bytes.
public enum BoundedTextFile {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            case missing, folder, notRegular, unreadable, tooLarge, notText
        }

        public var kind: Kind
        public var description: String
    }

    public static func read(_ path: String, limit: Int) throws(Failure) -> String {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw Failure(kind: .missing, description: "not found")
            case ELOOP: throw Failure(kind: .unreadable, description: "a loop of symbolic links (ELOOP)")
            case EACCES, EPERM:
                throw Failure(
                    kind: .unreadable, description: "permission denied: the user running edgecensus cannot read it")
            case EISDIR: throw Failure(kind: .folder, description: "a folder, not a file")
            default:
                let fault = StorageFault(path: path, code: code, operation: "read")
                throw Failure(kind: .unreadable, description: "cannot be read: \(fault.cause) (\(fault.reason))")
            }
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(kind: .unreadable, description: "cannot be read") }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure(kind: .folder, description: "a folder, not a file")
        default: throw Failure(kind: .notRegular, description: "not a regular file (a device, pipe or socket)")
        }
        guard Int(status.st_size) <= limit else {
            throw Failure(
                kind: .tooLarge,
                description: "\(status.st_size) bytes, more than the \(limit) a file of this kind may have")
        }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes {
                Foundation.read(descriptor, $0.baseAddress! + count, $0.count - count)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                let fault = StorageFault.current(path: path, operation: "read")
                throw Failure(kind: .unreadable, description: "cannot be read: \(fault.cause) (\(fault.reason))")
            }
            if got == 0 { break }
            count += got
        }
        guard count <= limit else {
            throw Failure(kind: .tooLarge, description: "more than the \(limit) bytes a file of this kind may have")
        }
        guard let text = String(validating: bytes[..<count], as: UTF8.self) else {
            let offset = Self.firstInvalidUTF8(bytes[..<count])
            throw Failure(kind: .notText, description: "not UTF-8 text (an invalid byte at offset \(offset))")
        }
        return text
    }

    private static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += Unicode.UTF8.width(scalar)
            case .emptyInput, .error: return offset
            }
        }
    }
}
