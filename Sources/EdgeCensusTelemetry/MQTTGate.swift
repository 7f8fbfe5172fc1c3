internal import CMosquitto
import Synchronization

/// The one way into libmosquitto from outside its callbacks, for publishes,
/// subscriptions and connection attempts, so that they never interleave badly:
///
/// - a publish made while a connection attempt runs is held back and handed over
///   right after it: libmosquitto 2.0.11 leaves a QoS 1 message published inside
///   `mosquitto__reconnect` (after it resets the messages in flight, before the new
///   socket exists) waiting for an acknowledgement it never asks for;
/// - nothing reaches libmosquitto once the client is closed, so that nothing races
///   `mosquitto_destroy`.
///
/// Lock order: this gate, then libmosquitto's own locks, then `CallbackContext`'s.
/// libmosquitto's callbacks never take this gate.
final class MQTTGate: @unchecked Sendable {
    // @unchecked: `handle` is used only under `state`'s lock (or by the network
    // thread through libmosquitto's thread-safe calls); everything else is immutable.
    typealias Waiter = CheckedContinuation<Result<PublishAcknowledgement, MQTTError>, Never>

    private struct State {
        var closed = false
        var connecting = false
        var heldBack: [(message: MQTTMessage, waiter: Waiter)] = []
    }

    private let handle: OpaquePointer
    private let context: CallbackContext
    private let state = Mutex(State())
    private let isV5: Bool

    init(handle: OpaquePointer, context: CallbackContext, isV5: Bool) {
        self.handle = handle
        self.context = context
        self.isV5 = isV5
    }

    /// Publishes; `waiter` is resumed with the broker's acknowledgement (QoS 1, 2), at
    /// once for QoS 0, or with an error.
    func publish(_ message: MQTTMessage, waiter: Waiter) {
        state.withLock { state in
            if state.closed {
                waiter.resume(
                    returning: .failure(
                        MQTTError(.stopped, operation: "publish to \(message.topic)", reason: "the client has stopped"))
                )
            } else if state.connecting {
                state.heldBack.append((message, waiter))
            } else {
                hand(message, waiter: waiter)
            }
        }
    }

    /// Subscribes; returns libmosquitto's result code and the message id.
    func subscribe(_ topic: String, qos: Int, options: Int32) -> (code: Int32, messageID: Int32) {
        state.withLock { state in
            guard !state.closed else { return (MOSQ_ERR_NO_CONN.rawValue, 0) }
            var mid: Int32 = 0
            let code = mosquitto_subscribe_v5(handle, &mid, topic, Int32(qos), options, nil)
            return (code, mid)
        }
    }

    /// Runs one connection attempt (`mosquitto_connect_async` or `_reconnect_async`)
    /// with publishes held back, then hands those over in order.
    func attemptConnection(_ attempt: () -> Int32) -> Int32 {
        state.withLock { $0.connecting = true }
        let code = attempt()
        state.withLock { state in
            state.connecting = false
            for held in state.heldBack { hand(held.message, waiter: held.waiter) }
            state.heldBack = []
        }
        return code
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Refuses everything from now on (held-back publishes fail); false if already closed.
    func close() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.closed = true
            for held in state.heldBack {
                held.waiter.resume(
                    returning: .failure(
                        MQTTError(
                            .stopped, operation: "publish to \(held.message.topic)", reason: "the client has stopped")))
            }
            state.heldBack = []
            return true
        }
    }

    /// Called with the lock held.
    private func hand(_ message: MQTTMessage, waiter: Waiter) {
        var mid: Int32 = 0
        var properties = isV5 ? MQTTProperties.list(for: message) : nil
        defer { mosquitto_property_free_all(&properties) }
        let code = message.payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(
                handle, &mid, message.topic, Int32(bytes.count), bytes.baseAddress, Int32(message.qos), message.retain,
                properties)
        }
        // While disconnected libmosquitto keeps a QoS 1 or 2 message (saying "no
        // connection") and sends it after the next connection; a QoS 0 one is dropped.
        let keptForLater = code == MOSQ_ERR_NO_CONN.rawValue && message.qos > 0
        guard code == MOSQ_ERR_SUCCESS.rawValue || keptForLater else {
            waiter.resume(
                returning: .failure(
                    MQTTError(.library, operation: "publish to \(message.topic)", reason: MQTTLibrary.describe(code))))
            return
        }
        if message.qos == 0 {
            context.forget(mid: mid)
            waiter.resume(returning: .success(PublishAcknowledgement(messageID: mid, reasonCode: 0)))
        } else {
            context.await(mid: mid, continuation: waiter)
        }
    }
}
