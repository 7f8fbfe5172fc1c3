public import EdgeCensusBuffer
public import EdgeCensusCounting
public import EdgeCensusLogging
import EdgeCensusSupport
import Foundation

/// Gets every window to the broker, eventually and once per `(device, seq)` as far
/// as MQTT allows: each finished window is written to the ring file first, published
/// while connected, and leaves the ring only when the broker has acknowledged it
/// (QoS 1 PUBACK with a success code). What the broker has not taken — windows made
/// while it was away, or left from an earlier run — is replayed oldest first after
/// each connect, paced, marked `"replayed": true`; live windows keep flowing.
public actor WindowDelivery: MQTTParticipant {
    private let ring: OfflineBuffer
    private let publisher: TelemetryPublisher
    private let replayInterval: Double
    private let logger: AgentLogger
    private var inFlight: Set<UInt64> = []
    private var replaying = false
    /// Set at shutdown: no replay starts any more.
    private var stopping = false
    /// Waiting for the last send to return (`finishSends`).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// When each pending window ended (read from its document), for "oldest unsent".
    private var windowEnds: [UInt64: Double] = [:]

    public init(ring: OfflineBuffer, publisher: TelemetryPublisher, replayRateHz: Double, logger: AgentLogger) {
        self.ring = ring
        self.publisher = publisher
        replayInterval = 1 / max(replayRateHz, 0.001)
        self.logger = logger
    }

    /// A finished window: buffered, then published if the broker is there. `live`:
    /// whether the broker was there when the window ended; a window that ended while
    /// it was away waits for the replay (marked `"replayed": true`), even when the
    /// broker is back by the time this runs.
    public func deliver(_ window: CountWindow, live: Bool = true) async {
        let document = TelemetryDocuments.counts(
            window, device: publisher.layout.device, kAnonymity: publisher.kAnonymity, replayed: false)
        if let dropped = ring.append(sequence: window.sequence, payload: Array(document.utf8)) {
            logger.warning(
                "the offline buffer is full: dropped the \(dropped.count) oldest unsent window(s), seq \(dropped.firstSequence)–\(dropped.lastSequence)"
            )
            windowEnds = windowEnds.filter { $0.key < dropped.firstSequence || $0.key > dropped.lastSequence }
        }
        windowEnds[window.sequence] = window.end
        guard publisher.isConnected else { return }
        guard live else {
            // The replay after the reconnect may have ended before this window was buffered.
            if !replaying { Task { await self.replay() } }
            return
        }
        inFlight.insert(window.sequence)
        await send(sequence: window.sequence, document: document, replayed: false)
    }

    /// After each connect: replay what the broker has not acknowledged.
    public nonisolated func connected(client: MQTTClient) async {
        Task { await self.replay() }
    }

    public nonisolated func received(_ message: MQTTMessage, client: MQTTClient) async -> Bool { false }

    /// Windows in the ring, the age of the oldest (seconds) and the windows dropped because it was full.
    public func backlog(now: Double) -> (windows: Int, oldestSeconds: Double?, dropped: Int) {
        let oldest = ring.firstPending(skipping: { _ in false }).flatMap { windowEnds[$0] ?? endOfWindow($0) }
        return (ring.pendingCount, oldest.map { max(0, now - $0) }, Int(ring.droppedTotal))
    }

    /// Shutdown, before `stopReplaying`: until `deadline`, waits for the broker (a
    /// connect still under way) and sends every window the ring still holds, so that
    /// a clean stop publishes what it can before saying `stopped`. What is left at the
    /// deadline stays buffered for the next run.
    public func drain(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !stopping, ring.pendingCount > 0 {
            if publisher.isConnected, !replaying, ring.firstPending(skipping: { inFlight.contains($0) }) != nil {
                await replay(until: deadline)
            } else {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Shutdown, first step: no more replays (live windows are drained before this).
    public func stopReplaying() {
        stopping = true
    }

    /// Shutdown, last step (after the client has stopped, which ends every wait for
    /// an acknowledgement): returns once every send has returned, so that each
    /// acknowledgement that arrived is recorded in the ring before the process exits.
    public func finishSends() async {
        stopping = true
        guard !inFlight.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func replay(until deadline: ContinuousClock.Instant? = nil) async {
        guard !replaying, !stopping else { return }
        replaying = true
        defer { replaying = false }
        var replayed = 0
        while publisher.isConnected, !stopping, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            guard let sequence = ring.firstPending(skipping: { inFlight.contains($0) }) else { break }
            guard let stored = ring.payload(of: sequence) else { break }
            inFlight.insert(sequence)
            let (document, marked) = Self.markedReplayed(stored)
            if !marked {
                logger.warning(
                    "window \(sequence) is sent as it was stored, not marked replayed: its record holds no single \"replayed\":false (not a counts document of this agent)"
                )
            }
            await send(sequence: sequence, document: document, replayed: true)
            replayed += 1
            // Paced; a rate above 1000/s means as fast as acknowledgements come.
            if replayInterval >= 0.001 {
                try? await Task.sleep(for: .seconds(replayInterval))
            } else {
                await Task.yield()
            }
        }
        if replayed > 0 { logger.info("replayed \(replayed) buffered window(s); \(ring.pendingCount) left") }
    }

    private func send(sequence: UInt64, document: String, replayed: Bool) async {
        defer {
            inFlight.remove(sequence)
            if inFlight.isEmpty {
                for waiter in idleWaiters { waiter.resume() }
                idleWaiters = []
            }
        }
        do {
            let ack = try await publisher.publish(document: document, replayed: replayed)
            guard ack.isSuccess else {
                logger.warning(
                    "the broker refused window \(sequence) (reason code \(ack.reasonCode)); it stays buffered")
                return
            }
            ring.acknowledge(sequence: sequence)
            windowEnds[sequence] = nil
        } catch {
            logger.warning("window \(sequence) not published (\(error)); it stays buffered")
        }
    }

    /// The stored document with `"replayed": true`. Every window the agent stores is its
    /// own compact JSON (`CountReport`), holding `"replayed":false` once at its top level
    /// (none of its text values can hold a quote), so marking it replaces that one run
    /// of bytes: nothing is parsed or written again. A record without that run exactly
    /// once is not a document of this agent; it is sent as it was stored, and `marked`
    /// says so.
    static func markedReplayed(_ stored: [UInt8]) -> (document: String, marked: Bool) {
        let text = String(decoding: stored, as: UTF8.self)
        let live = "\"replayed\":false"
        guard let range = text.range(of: live), text.range(of: live, range: range.upperBound..<text.endIndex) == nil
        else { return (text, false) }
        return (text.replacingCharacters(in: range, with: "\"replayed\":true"), true)
    }

    private func endOfWindow(_ sequence: UInt64) -> Double? {
        guard let stored = ring.payload(of: sequence),
            case .string(let end)? = (try? JSONValue.parse(json: Data(stored)))?.object?["window_end"],
            let seconds = InternetTime.seconds(end)
        else { return nil }
        windowEnds[sequence] = seconds
        return seconds
    }
}
