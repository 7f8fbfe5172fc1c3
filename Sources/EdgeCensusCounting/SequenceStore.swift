import Foundation

/// Hands out window sequence numbers that only ever increase, across restarts:
/// the last number used is kept in a small state file, replaced atomically
/// (temporary file, fsync, rename) so that a power cut leaves the old or the new
/// number, never a torn one.
public final class SequenceStore {
    public let path: String
    private var last: UInt64
    /// Set when the file was unreadable: what was wrong and what was done about it.
    public private(set) var recoveryNote: String?

    /// `now` gives Unix seconds, for the fallback when the file is unreadable.
    public init(path: String, now: Double) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        if !FileManager.default.fileExists(atPath: path) {
            last = 0
        } else if let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            last = value
        } else {
            // Never go back: restart above any number a counter could have reached,
            // the current Unix time (one window per second since 1970 at the most).
            last = UInt64(max(0, now))
            recoveryNote = "sequence file \(path) is unreadable; continuing from \(last + 1) (above any earlier number)"
        }
    }

    /// The last number handed out (0 when none yet).
    public var lastUsed: UInt64 { last }

    /// Makes the next number come after `number` when it does not already: for a
    /// sequence file lost or reset while another state file (the offline buffer)
    /// remembers higher numbers. Persisted at once. True when it moved the counter.
    @discardableResult
    public func continueAfter(_ number: UInt64) throws -> Bool {
        guard number > last else { return false }
        try AtomicFile.replace(path, with: "\(number)\n")
        last = number
        return true
    }

    /// The next number, persisted before it is returned.
    public func next() throws -> UInt64 {
        let value = last + 1
        try AtomicFile.replace(path, with: "\(value)\n")
        last = value
        return value
    }
}
