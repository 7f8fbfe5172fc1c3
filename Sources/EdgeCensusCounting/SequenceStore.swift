public import EdgeCensusStorage
import Foundation

/// A window's number: `sequence` goes up by one per window; `epoch` names the
/// numbering it belongs to. `(device, epoch, sequence)` never repeats: the epoch
/// changes whenever the agent cannot vouch that its numbers go on from the last
/// ones (the state directory lost or unwritable, the sequence file unreadable).
public struct WindowNumber: Sendable, Equatable, CustomStringConvertible {
    public var epoch: String
    public var sequence: UInt64

    public init(epoch: String, sequence: UInt64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    public var description: String { "\(sequence) (epoch \(epoch))" }
}

/// Hands out window numbers that never repeat for a device, across restarts and
/// disk faults. The last number and its epoch are kept in a small state file,
/// replaced atomically (temporary file, fsync, rename), so that a power cut leaves
/// the old or the new number, never a torn one.
///
/// The file can fail: a deleted state directory is made again; a full, read-only
/// or forbidden one (`ENOSPC`, `EROFS`, `EACCES`) leaves the file behind the
/// numbers handed out. At the first failure the store takes a new random epoch
/// before it hands out the next number: a restart that reads the old file goes on
/// in the old epoch from where the file says, and every number given out while the
/// file lagged belongs to the new epoch, which is never taken again. Counting never
/// stops for the file; the fault is reported once (through `StorageHealth`) and
/// cleared when a write succeeds again.
public final class SequenceStore {
    /// The largest number handed out (`WindowNumberRange`). A file that claims more
    /// is out of range and starts a new epoch.
    public static let largestSequence = WindowNumberRange.largest
    /// The role named in storage reports.
    public static let role = "window numbers"

    public let path: String
    private var last: UInt64
    public private(set) var epoch: String
    /// Set when the file was unreadable or out of range: what was wrong and what was done about it.
    public private(set) var recoveryNote: String?
    /// The fault that left the file behind the numbers handed out (nil while it is current).
    public private(set) var fault: StorageFault?
    private let health: StorageHealth?

    /// Reads the file at `path` (its folder is made when missing); never fails:
    /// a missing file starts a new numbering at 1, an unreadable one a new epoch
    /// above the current Unix time `now` (seconds). Faults are reported to `health`.
    public init(path: String, now: Double, health: StorageHealth? = nil) {
        self.path = path
        self.health = health
        switch Self.read(path) {
        case .missing:
            last = 0
            epoch = Self.newEpoch()
        case .found(let sequence, let epoch):
            last = sequence
            self.epoch = epoch ?? Self.newEpoch()
        case .unreadable(let problem):
            // Never go back: restart above any number a counter could have reached,
            // the current Unix time (one window per second since 1970 at the most),
            // in a new epoch besides.
            last = UInt64(min(max(0, now), 4e15))
            epoch = Self.newEpoch()
            recoveryNote = "sequence file \(path) \(problem); continuing from \(last + 1) in a new epoch, \(epoch)"
        }
    }

    /// The last number handed out (0 when none yet).
    public var lastUsed: UInt64 { last }

    /// Makes the next number come after `number` when it does not already: for a
    /// sequence file lost or reset while another state file (the offline buffer)
    /// remembers higher numbers. Persisted at once. True when it moved the counter.
    @discardableResult
    public func continueAfter(_ number: UInt64) -> Bool {
        guard number > last, number < Self.largestSequence else { return false }
        persist(number)
        last = number
        return true
    }

    /// The next number, persisted before it is returned when the file can be written.
    public func next() -> WindowNumber {
        if last >= Self.largestSequence {
            epoch = Self.newEpoch()
            last = 0
            recoveryNote =
                "window numbers reached \(Self.largestSequence); starting again from 1 in a new epoch, \(epoch)"
        }
        let value = last + 1
        persist(value)
        last = value
        return WindowNumber(epoch: epoch, sequence: value)
    }

    private func persist(_ value: UInt64) {
        do {
            try StateFolder.ensure((path as NSString).deletingLastPathComponent)
            try AtomicFile.replace(path, with: "\(value) \(epoch)\n")
            if fault != nil {
                fault = nil
                health?.succeeded(Self.role)
            }
        } catch {
            guard fault == nil else { return }
            // The file now lags: the numbers from here on go to a new epoch.
            epoch = Self.newEpoch()
            fault = error
            health?.failed(
                Self.role, error,
                consequence: "window numbers go on in memory, in a new epoch (\(epoch)), until it can be written")
        }
    }

    private enum Contents {
        case missing
        case found(UInt64, epoch: String?)
        case unreadable(String)
    }

    /// The file's number and epoch (`<number> <epoch>`, or `<number>` as written before epochs), read with a bound.
    private static func read(_ path: String) -> Contents {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            return errno == ENOENT
                ? .missing
                : .unreadable("cannot be read (\(StorageFault.current(path: path, operation: "read").cause))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            return .unreadable("is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            return .unreadable("cannot be read (\(StorageFault.current(path: path, operation: "read").cause))")
        }
        guard count < bytes.count, let text = String(validating: bytes[..<count], as: UTF8.self) else {
            return .unreadable("does not hold a window number")
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard (1...2).contains(fields.count), fields[0].allSatisfy(\.isASCII), let number = UInt64(fields[0]) else {
            return .unreadable("does not hold a window number")
        }
        guard number <= largestSequence else {
            return .unreadable("holds \(number), above the largest window number (\(largestSequence))")
        }
        guard fields.count == 2 else { return .found(number, epoch: nil) }
        guard isEpoch(fields[1]) else { return .unreadable("holds an epoch that is not 16 hexadecimal digits") }
        return .found(number, epoch: String(fields[1]))
    }

    /// 16 lowercase hexadecimal digits.
    public static func isEpoch(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// 64 random bits as 16 hexadecimal digits.
    static func newEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
