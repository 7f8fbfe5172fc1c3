internal import CMosquitto
import Foundation
import Synchronization

/// How to reach the broker.
public struct MQTTSettings: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable, CaseIterable { case v5 = "5", v311 = "3.1.1" }

    public struct TLS: Sendable, Equatable {
        public var caFile: String
        public var certificateFile: String?
        public var keyFile: String?
        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var host = "localhost"
    public var port = 1883
    public var clientID = "edgecensus"
    public var protocolVersion = ProtocolVersion.v5
    public var keepalive = 30
    public var username: String?
    /// The password is read from this file (its first line), never from the configuration itself.
    public var passwordFile: String?
    public var tls: TLS?
    /// Reconnect after 1 s, doubling up to this many seconds.
    public var reconnectDelayMax = 60
    /// False: ask the broker to keep the session (subscriptions, QoS 1 messages
    /// queued while away) across disconnects. With MQTT 3.1.1 only (MQTT 5 would also
    /// need a session expiry interval).
    public var cleanSession = true

    public init() {}
}

/// A message to send or one received.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int
    public var retain: Bool
    /// MQTT 5 request / response: where the sender wants the answer, and what to
    /// echo with it (ignored with MQTT 3.1.1).
    public var responseTopic: String?
    public var correlationData: [UInt8]?

    public init(
        topic: String, payload: [UInt8], qos: Int = 0, retain: Bool = false,
        responseTopic: String? = nil, correlationData: [UInt8]? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }

    public init(
        topic: String, text: String, qos: Int = 0, retain: Bool = false,
        responseTopic: String? = nil, correlationData: [UInt8]? = nil
    ) {
        self.init(
            topic: topic, payload: Array(text.utf8), qos: qos, retain: retain,
            responseTopic: responseTopic, correlationData: correlationData)
    }

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// What happens on the connection, in order.
public enum MQTTEvent: Sendable, Equatable {
    case connected
    /// The broker refused the connection (bad credentials, not authorised, ...).
    case refused(reason: String)
    case disconnected(reason: String)
    /// An error libmosquitto reports while connecting (a TLS handshake that fails, a
    /// name that does not resolve): said once per distinct message.
    case problem(MQTTProblem)
    /// The broker answered a subscription: one granted QoS per topic (128 or more = refused).
    case subscribed(messageID: Int32, grantedQoS: [Int])
    case message(MQTTMessage)
}

/// The broker's answer to a QoS 1 publish.
public struct PublishAcknowledgement: Sendable, Equatable {
    public var messageID: Int32
    /// MQTT 5 reason code (0 = success; with MQTT 3.1.1 always 0).
    public var reasonCode: Int32
    public var isSuccess: Bool { reasonCode < 128 }
}

/// Why a connection attempt failed, as libmosquitto reported it.
public struct MQTTProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// TLS: a certificate that does not verify, a handshake that fails.
        case tls
        /// The network or the broker: refused, unreachable, a name that does not resolve, no answer.
        case network
    }

    public var kind: Kind
    public var text: String
    public var description: String { text }

    public init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }

    /// A line of libmosquitto's error log. TLS failures reach us only as these
    /// lines, which libmosquitto writes as "OpenSSL Error[n]: ..." (and, for a
    /// handshake, "... TLS ..."): this is the one place that reads them.
    static func logged(_ text: String) -> MQTTProblem {
        let tls =
            text.hasPrefix("OpenSSL Error") || text.contains("TLS") || text.contains("SSL")
            || text.contains("certificate")
        return MQTTProblem(kind: tls ? .tls : .network, text: text)
    }

    /// The result of a connection attempt that the broker never answered.
    static func attempt(_ code: Int32) -> MQTTProblem {
        let tls = code == MOSQ_ERR_TLS.rawValue || code == MOSQ_ERR_TLS_HANDSHAKE.rawValue
        return MQTTProblem(kind: tls ? .tls : .network, text: MQTTLibrary.describe(code))
    }
}

/// A failure the caller must handle, saying what to do.
public struct MQTTError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The client cannot be set up: the password or TLS files, the library.
        case setup
        /// The client has stopped, or stopped before the broker acknowledged.
        case stopped
        /// libmosquitto refused a call (not connected, a payload too large, ...).
        case library
        /// The broker refused the connection or a publish.
        case refused
        /// The connection could not be made.
        case connection
    }

    public var kind: Kind
    public var operation: String
    public var reason: String
    public var description: String { "MQTT \(operation) failed: \(reason)" }

    public init(_ kind: Kind, operation: String, reason: String) {
        self.kind = kind
        self.operation = operation
        self.reason = reason
    }
}

/// A client over libmosquitto. A network thread of its own (`MQTTNetworkLoop`)
/// connects and reconnects with exponential backoff; libmosquitto's callbacks only
/// take a short lock and hand events to `events` or resume a waiting publish — they
/// never block or call back into libmosquitto. Every other call into libmosquitto
/// goes through one `MQTTGate`.
public final class MQTTClient: Sendable {
    /// Raw handle. `nonisolated(unsafe)`: libmosquitto's publish / subscribe /
    /// disconnect are thread-safe once `mosquitto_threaded_set` is on, and the
    /// handle is destroyed only in `stop()`, after the network thread has ended.
    private nonisolated(unsafe) let handle: OpaquePointer
    private let context: CallbackContext
    private let unmanaged: Unmanaged<CallbackContext>
    public let settings: MQTTSettings
    /// Connection events and received messages; the newest `eventsKept` are kept
    /// while nobody reads (nil: all of them).
    public let events: AsyncStream<MQTTEvent>
    private let gate: MQTTGate
    private let network = Mutex<MQTTNetworkLoop?>(nil)

    /// `eventsKept`: how many unread events to keep, the newest (an agent, which must
    /// never grow without bound); nil keeps every one (a tool that reads a burst of
    /// retained messages, which must lose none of them, nor the acknowledgements among them).
    public init(settings: MQTTSettings, will: MQTTMessage? = nil, eventsKept: Int? = 1024) throws(MQTTError) {
        MQTTLibrary.initialise()
        guard let handle = mosquitto_new(settings.clientID, settings.cleanSession, nil) else {
            throw MQTTError(.setup, operation: "create client", reason: String(cString: strerror(errno)))
        }
        self.handle = handle
        self.settings = settings
        let (events, continuation) = AsyncStream<MQTTEvent>.makeStream(
            bufferingPolicy: eventsKept.map { .bufferingNewest($0) } ?? .unbounded)
        self.events = events
        context = CallbackContext(continuation: continuation, isV5: settings.protocolVersion == .v5)
        unmanaged = Unmanaged.passRetained(context)
        gate = MQTTGate(handle: handle, context: context, isV5: settings.protocolVersion == .v5)
        mosquitto_user_data_set(handle, unmanaged.toOpaque())
        // On failure, deinit (every property is set by now) destroys the handle and releases the context.
        try configure(will: will)
    }

    private func configure(will: MQTTMessage?) throws(MQTTError) {
        let version = settings.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, Int32(version)), "set protocol version")
        if let username = settings.username {
            var password: String?
            if let file = settings.passwordFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw MQTTError(
                        .setup, operation: "read password", reason: "cannot read \(file) (mqtt.password_file)")
                }
                password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            }
            try check(mosquitto_username_pw_set(handle, username, password), "set username")
        }
        if let tls = settings.tls {
            for file in [tls.caFile, tls.certificateFile, tls.keyFile].compactMap({ $0 })
            where !FileManager.default.isReadableFile(atPath: file) {
                throw MQTTError(.setup, operation: "set up TLS", reason: "cannot read \(file)")
            }
            try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil), "set up TLS")
        }
        if let will {
            let code = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(
                    handle, will.topic, Int32(bytes.count), bytes.baseAddress, Int32(will.qos), will.retain)
            }
            try check(code, "set last will")
        }
        try check(mosquitto_threaded_set(handle, true), "enable threading")
        mosquitto_connect_v5_callback_set(handle) { _, user, code, _, _ in
            CallbackContext.from(user)?.connected(code: code)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, user, code, _ in
            CallbackContext.from(user)?.disconnected(code: code)
        }
        mosquitto_publish_v5_callback_set(handle) { _, user, mid, reason, _ in
            CallbackContext.from(user)?.published(mid: mid, reason: reason)
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, user, mid, count, granted, _ in
            let qos = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))).map(Int.init) } ?? []
            CallbackContext.from(user)?.yield(.subscribed(messageID: mid, grantedQoS: qos))
        }
        mosquitto_log_callback_set(handle) { _, user, level, text in
            guard level & Int32(MOSQ_LOG_ERR) != 0, let text else { return }
            CallbackContext.from(user)?.problem(.logged(String(cString: text)))
        }
        mosquitto_message_v5_callback_set(handle) { _, user, message, properties in
            guard let message, let context = CallbackContext.from(user) else { return }
            let m = message.pointee
            let payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(m.payloadlen))) } ?? []
            var received = MQTTMessage(
                topic: String(cString: m.topic), payload: payload, qos: Int(m.qos), retain: m.retain)
            (received.responseTopic, received.correlationData) = MQTTProperties.read(properties)
            context.received(received)
        }
    }

    /// Starts connecting in the background; connection and every reconnection are
    /// reported on `events`, and so is each distinct reason an attempt fails (a broker
    /// that is down, a TLS handshake that fails): it is retried with backoff, for ever.
    public func start() throws(MQTTError) {
        // Checked under `network`'s lock, which `stop()` takes after closing the gate:
        // either `stop()` sees this loop and ends it, or this sees the gate closed.
        let refused = network.withLock { loop -> Bool in
            guard !gate.isClosed else { return true }
            guard loop == nil else { return false }
            loop = MQTTNetworkLoop(handle: handle, settings: settings, context: context, gate: gate)
            loop?.start()
            return false
        }
        if refused { throw MQTTError(.stopped, operation: "start", reason: "the client has stopped") }
    }

    /// Publishes. For QoS 1 and 2, waits for the broker's acknowledgement, which comes
    /// after a reconnect when the broker is away (libmosquitto keeps the message and
    /// resends it), or fails when the client stops first. QoS 0 returns once the message
    /// is handed to libmosquitto: nothing acknowledges it.
    @discardableResult
    public func publish(_ message: MQTTMessage) async throws(MQTTError) -> PublishAcknowledgement {
        let result = await withCheckedContinuation { continuation in gate.publish(message, waiter: continuation) }
        return try result.get()
    }

    /// Subscribes; with MQTT 5, retained messages are never sent for it when
    /// `retainedToo` is false (retain handling 2), and with `retainAsPublished` the
    /// messages forwarded while subscribed keep the retain flag they were published
    /// with (brokers otherwise clear it on forwarding, so a retained message published
    /// while connected would look live). MQTT 3.1.1 has neither: retained messages come
    /// at subscription time flagged, and later ones unflagged. Returns the message id
    /// that the broker's answer (`MQTTEvent.subscribed`) carries.
    @discardableResult
    public func subscribe(
        _ topic: String, qos: Int = 1, retainedToo: Bool = true,
        retainAsPublished: Bool = false
    ) throws(MQTTError) -> Int32 {
        var options: Int32 = 0
        if settings.protocolVersion == .v5 {
            if !retainedToo { options |= Int32(MQTT_SUB_OPT_SEND_RETAIN_NEVER.rawValue) }
            if retainAsPublished { options |= Int32(MQTT_SUB_OPT_RETAIN_AS_PUBLISHED.rawValue) }
        }
        let (code, mid) = gate.subscribe(topic, qos: qos, options: options)
        try check(code, "subscribe to \(topic)")
        return mid
    }

    /// While the broker is away: try again now, and back off from one second again.
    public func retryPromptly() {
        network.withLock { $0 }?.retryPromptly()
    }

    /// Disconnects cleanly (no will) and ends the network thread, within about a
    /// second. Waiting publishes fail, and so does every publish from now on.
    public func stop() {
        guard gate.close() else { return }
        // Nothing else enters libmosquitto now but the network thread, which is
        // awaited, not cancelled (cancelling it mid-TLS-handshake can leave locks held).
        mosquitto_disconnect(handle)
        network.withLock { $0 }?.stopAndWait()
        context.finish()
        mosquitto_destroy(handle)
        unmanaged.release()
    }

    deinit { stop() }

    private func check(_ code: Int32, _ operation: String) throws(MQTTError) {
        guard code == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError(.library, operation: operation, reason: MQTTLibrary.describe(code))
        }
    }
}

/// What libmosquitto's callbacks reach: a continuation and a short lock.
final class CallbackContext: Sendable {
    struct Pending {
        var waiting: [Int32: CheckedContinuation<Result<PublishAcknowledgement, MQTTError>, Never>] = [:]
        /// Acknowledgements that arrived before the publisher registered.
        var early: [Int32: Int32] = [:]
        /// QoS 0 messages whose "sent" callback is of no interest (it may also never come,
        /// when the connection drops first: cleared on every disconnect).
        var ignored: Set<Int32> = []
        /// After `finish()` nothing will be acknowledged any more.
        var finished = false
    }

    private let continuation: AsyncStream<MQTTEvent>.Continuation
    private let pending = Mutex(Pending())
    private let isV5: Bool

    init(continuation: AsyncStream<MQTTEvent>.Continuation, isV5: Bool) {
        self.continuation = continuation
        self.isV5 = isV5
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> CallbackContext? {
        user.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Resumes `continuation` when the broker acknowledges `mid` (at once if it already has).
    func await(mid: Int32, continuation: CheckedContinuation<Result<PublishAcknowledgement, MQTTError>, Never>) {
        enum Outcome { case acknowledged(Int32), finished, waiting }
        let outcome = pending.withLock { state -> Outcome in
            if let reason = state.early.removeValue(forKey: mid) { return .acknowledged(reason) }
            if state.finished { return .finished }
            state.waiting[mid] = continuation
            return .waiting
        }
        switch outcome {
        case .acknowledged(let reason):
            continuation.resume(returning: .success(PublishAcknowledgement(messageID: mid, reasonCode: reason)))
        case .finished:
            continuation.resume(returning: .failure(Self.stoppedBeforeAcknowledgement))
        case .waiting:
            break
        }
    }

    /// Drops the callback for a QoS 0 message (which may already have come).
    func forget(mid: Int32) {
        pending.withLock { state in
            if state.early.removeValue(forKey: mid) == nil { state.ignored.insert(mid) }
        }
    }

    static let stoppedBeforeAcknowledgement = MQTTError(
        .stopped, operation: "publish", reason: "the client stopped before the broker acknowledged")

    /// How the broker answered the latest connection attempt, if it did.
    enum Answer { case none, accepted, refused }
    private let answer = Mutex(Answer.none)

    /// The broker's answer since the last time this was asked.
    func takeAnswer() -> Answer {
        answer.withLock { value in
            defer { value = .none }; return value
        }
    }

    func connected(code: Int32) {
        answer.withLock { $0 = code == 0 ? .accepted : .refused }
        if code == 0 {
            lastProblem.withLock { $0 = nil }
            continuation.yield(.connected)
        } else {
            continuation.yield(
                .refused(reason: isV5 ? MQTTLibrary.reason(code) : String(cString: mosquitto_connack_string(code))))
        }
    }

    func disconnected(code: Int32) {
        pending.withLock { $0.ignored.removeAll() }
        continuation.yield(.disconnected(reason: code == 0 ? "disconnected as asked" : MQTTLibrary.describe(code)))
    }

    func published(mid: Int32, reason: Int32) {
        let waiter = pending.withLock {
            state -> CheckedContinuation<Result<PublishAcknowledgement, MQTTError>, Never>? in
            if let waiter = state.waiting.removeValue(forKey: mid) { return waiter }
            if state.ignored.remove(mid) != nil { return nil }
            state.early[mid] = reason
            return nil
        }
        waiter?.resume(returning: .success(PublishAcknowledgement(messageID: mid, reasonCode: reason)))
    }

    func received(_ message: MQTTMessage) { continuation.yield(.message(message)) }

    func yield(_ event: MQTTEvent) { continuation.yield(event) }

    private let lastProblem = Mutex<MQTTProblem?>(nil)

    func problem(_ problem: MQTTProblem) {
        let isNew = lastProblem.withLock { last in
            defer { last = problem }
            return last != problem
        }
        if isNew { continuation.yield(.problem(problem)) }
    }

    func finish() {
        let waiters = pending.withLock { state in
            defer { state.waiting = [:]; state.finished = true }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(returning: .failure(Self.stoppedBeforeAcknowledgement)) }
        continuation.finish()
    }
}

enum MQTTLibrary {
    private static let once: Void = { mosquitto_lib_init() }()
    static func initialise() { _ = once }

    static func describe(_ code: Int32) -> String {
        if code == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        // libmosquitto 2.0.11 (Debian 12) says "Unknown error." for these.
        switch code {
        case MOSQ_ERR_KEEPALIVE.rawValue:
            return
                "no answer from the broker within the keepalive (mqtt.keepalive): it accepted the connection but said nothing; is it an MQTT broker, and is it overloaded?"
        case MOSQ_ERR_LOOKUP.rawValue: return "the broker's host name could not be looked up"
        case MOSQ_ERR_MALFORMED_PACKET.rawValue: return "the broker sent a malformed packet"
        case MOSQ_ERR_TIMEOUT.rawValue: return "timed out"
        case MOSQ_ERR_UNKNOWN.rawValue: return "libmosquitto reported an unknown error (code 13)"
        default: break
        }
        let text = String(cString: mosquitto_strerror(code))
        return text == "Unknown error." ? "libmosquitto error \(code)" : text
    }

    static func reason(_ code: Int32) -> String { String(cString: mosquitto_reason_string(code)) }
}

/// MQTT 5 properties of a request / response exchange.
enum MQTTProperties {
    /// Response topic and correlation data of a received message (copies; libmosquitto's are freed).
    static func read(_ properties: OpaquePointer?) -> (String?, [UInt8]?) {
        guard let properties else { return (nil, nil) }
        var topic: UnsafeMutablePointer<CChar>?
        var responseTopic: String?
        if mosquitto_property_read_string(properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &topic, false) != nil,
            let topic
        {
            responseTopic = String(cString: topic)
            free(topic)
        }
        var data: UnsafeMutableRawPointer?
        var length: UInt16 = 0
        var correlation: [UInt8]?
        if mosquitto_property_read_binary(properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &length, false)
            != nil
        {
            correlation = data.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
            free(data)
        }
        return (responseTopic, correlation)
    }

    /// A property list for publishing `message` (nil when it has none); free with `mosquitto_property_free_all`.
    static func list(for message: MQTTMessage) -> OpaquePointer? {
        var list: OpaquePointer?
        if let topic = message.responseTopic {
            mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), topic)
        }
        if let data = message.correlationData {
            data.withUnsafeBytes { bytes in
                _ = mosquitto_property_add_binary(
                    &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), bytes.baseAddress,
                    UInt16(min(bytes.count, 65535)))
            }
        }
        return list
    }
}
