import Foundation

/// Replaces a small file so that a crash or power cut at any moment leaves either
/// the old content or the new, never a mix: the new content goes to `<path>.tmp`,
/// is flushed to disk (fsync), renamed over the file, and the rename is flushed too.
public enum AtomicFile {
    public static func replace(_ path: String, with text: String) throws {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0 else { throw POSIXError(.EIO) }
        guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        // Make the rename itself durable.
        let folder = (path as NSString).deletingLastPathComponent
        let descriptorOfFolder = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if descriptorOfFolder >= 0 { fsync(descriptorOfFolder); close(descriptorOfFolder) }
    }
}
