import Synchronization

/// A value that a remote change can move while others read it, from any thread.
public final class Setting<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>
    public init(_ value: Value) { stored = Mutex(value) }
    public var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
    /// Changes the value in place, under the lock.
    public func update(_ change: (inout Value) -> Void) { stored.withLock { change(&$0) } }
}
