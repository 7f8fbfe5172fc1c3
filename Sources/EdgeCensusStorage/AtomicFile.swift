import Foundation

/// Replaces a small file so that a crash or power cut at any moment leaves either
/// the old content or the new, never a mix: the new content goes to `<path>.tmp`,
/// is flushed to disk (fsync), renamed over the file, and the rename is flushed too.
/// A failure names the file and the system's cause (`StorageFault`), and leaves the
/// old content in place.
public enum AtomicFile {
    public static func replace(_ path: String, with text: String) throws(StorageFault) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageFault.current(path: temporary, operation: "create") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                // A write of 0 bytes on a regular file means the device is full.
                let fault =
                    written == 0
                    ? StorageFault(path: temporary, code: ENOSPC, operation: "write")
                    : StorageFault.current(path: temporary, operation: "write")
                close(descriptor)
                unlink(temporary)
                throw fault
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let fault = StorageFault.current(path: temporary, operation: "write")
            close(descriptor)
            unlink(temporary)
            throw fault
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let fault = StorageFault.current(path: path, operation: "replace")
            unlink(temporary)
            throw fault
        }
        // Make the rename itself durable.
        let folder = (path as NSString).deletingLastPathComponent
        let descriptorOfFolder = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        if descriptorOfFolder >= 0 { fsync(descriptorOfFolder); close(descriptorOfFolder) }
    }
}
