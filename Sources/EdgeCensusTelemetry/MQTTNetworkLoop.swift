internal import CMosquitto
import Foundation
import Synchronization

/// The thread that drives one libmosquitto connection: connects, runs `mosquitto_loop`,
/// and after any failure (a broker that is down, a lost connection, a TLS handshake
/// or a name lookup that fails) waits with exponential backoff and tries again, until
/// asked to stop.
///
/// libmosquitto's own thread (`mosquitto_loop_start`) is not used: in 2.0.11 it never
/// retries when the very first connection attempt fails (a device that boots before
/// its broker would never connect), and it ends for good on a TLS or name-lookup error.
final class MQTTNetworkLoop: @unchecked Sendable {
    // @unchecked: `handle` is only used here through libmosquitto calls that are
    // thread-safe once `mosquitto_threaded_set` is on; the rest is immutable or atomic.
    private let handle: OpaquePointer
    private let settings: MQTTSettings
    private let context: CallbackContext
    private let gate: MQTTGate
    private let stopRequested = Atomic(false)
    private let retryRequested = Atomic(false)
    private let finished = DispatchSemaphore(value: 0)

    init(handle: OpaquePointer, settings: MQTTSettings, context: CallbackContext, gate: MQTTGate) {
        self.handle = handle
        self.settings = settings
        self.context = context
        self.gate = gate
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "mqtt \(settings.host):\(settings.port)"
        thread.start()
    }

    /// Asks the thread to end (the caller has already queued a DISCONNECT) and waits
    /// for it: at most about a second (one `mosquitto_loop` timeout).
    func stopAndWait() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        finished.wait()
    }

    /// Ends the current backoff wait and starts it again from one second: for a stop that
    /// waits a few seconds for the broker, a backoff grown to 16 or 32 s would make it
    /// give up without a single attempt in that time.
    func retryPromptly() {
        retryRequested.store(true, ordering: .sequentiallyConsistent)
    }

    private var stopping: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    private func run() {
        var delay = 1.0
        var attempted = false
        while !stopping {
            let code = gate.attemptConnection { [handle, settings, attempted] in
                attempted
                    ? mosquitto_reconnect_async(handle)
                    : mosquitto_connect_async(handle, settings.host, Int32(settings.port), Int32(settings.keepalive))
            }
            attempted = true
            var result = code
            if code == MOSQ_ERR_SUCCESS.rawValue {
                repeat {
                    result = mosquitto_loop(handle, 1000, 1)
                } while result == MOSQ_ERR_SUCCESS.rawValue && !stopping
                if stopping { break }
            }
            // An accepted connection resets the backoff; it and a refused one are already
            // on `events`. An attempt the broker never answered is reported as a
            // problem, once per distinct reason.
            switch context.takeAnswer() {
            case .accepted: delay = 1
            case .refused: break
            case .none: context.problem(.attempt(result))
            }
            sleep(seconds: delay)
            delay =
                retryRequested.exchange(false, ordering: .sequentiallyConsistent)
                ? 1 : min(delay * 2, Double(max(1, settings.reconnectDelayMax)))
        }
        // Let a queued DISCONNECT go out, so that the broker does not send the will.
        for _ in 0..<20 where mosquitto_loop(handle, 50, 1) == MOSQ_ERR_SUCCESS.rawValue {}
    }

    /// Sleeps in short steps, so that a stop (or a prompt retry) is not kept waiting for a long backoff.
    private func sleep(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !stopping && !retryRequested.load(ordering: .sequentiallyConsistent) && Date() < deadline {
            usleep(50_000)
        }
    }
}
