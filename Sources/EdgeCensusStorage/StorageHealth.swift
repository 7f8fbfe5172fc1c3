import Foundation
import Synchronization

/// The state directory's faults in force, one per role ("window numbers", "offline
/// buffer", …): each is reported once when it begins and once when it clears, so
/// that a disk that stays full fills no log, and the health report lists what is
/// wrong now.
public final class StorageHealth: Sendable {
    /// One fault in force: the file's role, the fault, what the agent does meanwhile, and since when (Unix seconds).
    public struct Condition: Sendable, Equatable {
        public var role: String
        public var fault: StorageFault
        public var consequence: String
        public var since: Double
    }

    /// A change to report: a fault began, or the role's file is written again.
    public enum Change: Sendable, Equatable {
        case began(Condition)
        case cleared(Condition)
    }

    private let conditions = Mutex<[String: Condition]>([:])
    private let report: @Sendable (Change) -> Void
    private let clock: @Sendable () -> Double

    /// `clock` gives Unix seconds (nil: the system clock).
    public init(clock: (@Sendable () -> Double)? = nil, report: @escaping @Sendable (Change) -> Void) {
        self.clock = clock ?? { Date().timeIntervalSince1970 }
        self.report = report
    }

    /// A write for `role` failed. Reported when the role had no fault or a different cause.
    public func failed(_ role: String, _ fault: StorageFault, consequence: String) {
        let began: Condition? = conditions.withLock { conditions in
            if let existing = conditions[role], existing.fault.code == fault.code, existing.fault.path == fault.path {
                return nil
            }
            let condition = Condition(
                role: role, fault: fault, consequence: consequence, since: conditions[role]?.since ?? clock())
            conditions[role] = condition
            return condition
        }
        if let began { report(.began(began)) }
    }

    /// A write for `role` succeeded: a fault in force is cleared (and reported).
    public func succeeded(_ role: String) {
        let cleared = conditions.withLock { $0.removeValue(forKey: role) }
        if let cleared { report(.cleared(cleared)) }
    }

    /// The faults in force, by role.
    public var current: [Condition] { conditions.withLock { $0.values.sorted { $0.role < $1.role } } }
}
