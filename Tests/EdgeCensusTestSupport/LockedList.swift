import Foundation

/// A list appended to from `@Sendable` closures (reports, callbacks) and read by a test.
public final class LockedList<Item: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `storage` holds `lock`.
    private let lock = NSLock()
    private var storage: [Item] = []

    public init() {}

    public func append(_ item: Item) { lock.withLock { storage.append(item) } }
    public var items: [Item] { lock.withLock { storage } }
}
