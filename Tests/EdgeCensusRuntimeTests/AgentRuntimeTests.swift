import EdgeCensusBuffer
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusLogging
import EdgeCensusRemoteConfiguration
import EdgeCensusRuntime
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Synchronization
import Testing

/// The running agent, started without the command line: one owner of the parts,
/// which starts them in order, says when it is ready, and stops them in the reverse
/// order so that the last window reaches the broker before `stopped`.
@Suite("The agent runtime: its parts, their start and stop order", .tags(.broker), .serialized)
struct AgentRuntimeTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// The bundled sample video (three walkers, 20 s windows from 09:00:00) with this state directory and broker.
    func configuration(broker: MosquittoBroker?, realtime: Bool = false) throws -> RemoteConfiguration {
        try configuration(port: broker?.port, realtime: realtime)
    }

    /// The same, with the broker's port only (it may not be running yet).
    func configuration(port: Int?, realtime: Bool = false, rate: Double = 2) throws -> RemoteConfiguration {
        let path = directory.file("edgecensus.yaml")
        var text = """
            device: {id: runtime}
            source: {kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: \(realtime), start_time: "2026-01-01T09:00:00Z"}
            throttle: {max_rate_hz: \(rate)}
            windows: {length: 20}
            state: {directory: \(directory.file("state"))}

            """
        if let port { text += "mqtt: {host: 127.0.0.1, port: \(port), discovery: false}\n" }
        try writeFile(path, Data(text.utf8))
        return try RemoteConfiguration(localFile: path)
    }

    /// Events as they happen, from any thread.
    final class EventLog: Sendable {
        private let events = Mutex<[AgentRuntime.Event]>([])
        func record(_ event: AgentRuntime.Event) { events.withLock { $0.append(event) } }
        var all: [AgentRuntime.Event] { events.withLock { $0 } }
    }

    /// Runs the runtime on a thread of its own (it blocks, as the command's main thread does).
    static func runOnThread(_ runtime: AgentRuntime) async -> (any Error)? {
        await withCheckedContinuation { continuation in
            Thread {
                do { try runtime.run(); continuation.resume(returning: nil) } catch {
                    continuation.resume(returning: error)
                }
            }.start()
        }
    }

    @Test(
        "with MQTT: parts start in order, READY=1 follows them, and at the recording's end they stop in the reverse order; every window is published before stopped, or kept in the ring for the next run"
    )
    func startAndStopOrderWithBroker() async throws {
        let broker = try MosquittoBroker()
        let remote = try configuration(broker: broker)
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let subscriber = try await Subscriber(port: broker.port, topics: ["edgecensus/runtime/#"])
        defer { subscriber.stop() }
        let log = EventLog()
        let runtime = try AgentRuntime(
            configuration: remote.effective, remote: remote,
            pipeline: try remote.effective.makePipeline(modelsOverride: TestPaths.models),
            version: "test", environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"], logger: .silent,
            localWindows: { _ in Issue.record("with MQTT on, no window goes to the local output") },
            events: { log.record($0) })
        let error = await Self.runOnThread(runtime)
        #expect(error == nil, "\(String(describing: error))")
        // `run` waits up to 15 s for the publisher's last steps; on a machine busy with
        // other tests they can come later (the process would exit then): wait for them.
        let deadline = Date().addingTimeInterval(120)
        while !log.all.contains(.stopped(.delivery)) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await subscriber.wait(for: "edgecensus/runtime/status", count: 2)

        #expect(
            log.all == [
                .started(.capture), .started(.sequence), .started(.delivery), .started(.publisher), .started(.health),
                .started(.remoteConfiguration), .started(.analysis), .ready, .started(.watchdog),
                .stopping, .stopped(.remoteConfiguration), .stopped(.capture), .stopped(.analysis), .stopped(.watchdog),
                .stopped(.health), .stopped(.publisher), .stopped(.delivery),
            ], "\(log.all.map(\.description))")
        // Every window, the partial last one included, reached the broker before "stopped",
        // or (a machine so busy that the broker came later than the stop's 15 s) is still
        // in the ring, for the next run: none is lost. The late-broker test below checks
        // that a stop does wait for the broker.
        let messages = await subscriber.inbox.messages
        let counts = messages.indices.filter { messages[$0].topic == "edgecensus/runtime/counts" }
        let stopped = messages.lastIndex { $0.topic == "edgecensus/runtime/status" && $0.text == "stopped" }
        #expect(
            stopped != nil && counts.allSatisfy { $0 < stopped! },
            "\(messages.map { "\($0.topic) \($0.text.prefix(40))" })")
        let published = counts.compactMap { index -> UInt64? in
            ((try? JSONSerialization.jsonObject(with: Data(messages[index].payload))) as? [String: Any])?["seq"]
                as? UInt64
        }
        // (A window closed while older ones were still buffered goes out live, ahead of
        // their replay: the order across the two is not kept, the numbers say which is which.)
        #expect(Set(published).count == published.count, "a window published twice: \(published)")
        let configuration = remote.effective
        let ring = try RingFile(
            path: configuration.bufferPath, capacity: configuration.buffer.sizeMiB * 1_048_576, sync: .never)
        var kept: [UInt64] = []
        while let next = ring.firstPending(skipping: { kept.contains($0) }) { kept.append(next) }
        #expect(Set(published).union(kept) == [1, 2, 3], "published \(published), kept \(kept)")
        // The partial last window (3), when published, is the one marked partial.
        let partial = counts.filter { messages[$0].text.contains("\"partial\":true") }
            .compactMap {
                ((try? JSONSerialization.jsonObject(with: Data(messages[$0].payload))) as? [String: Any])?["seq"]
                    as? UInt64
            }
        #expect(partial == (published.contains(3) ? [3] : []), "partial: \(partial), published \(published)")
        // systemd heard READY=1 before STOPPING=1.
        let notes = listener.messages.map(\.message)
        let ready = notes.firstIndex { $0.hasPrefix("READY=1") },
            stopping = notes.firstIndex { $0.hasPrefix("STOPPING=1") }
        #expect(ready != nil && stopping != nil && ready! < stopping!, "\(notes)")
        // Each window's status says whether the agent is active or idle (only the motion
        // check running), and how much of the window the motion gate saved.
        let windowStatuses = notes.filter { $0.hasPrefix("STATUS=") && $0.contains("; window ") }
        #expect(!windowStatuses.isEmpty, "\(notes)")
        #expect(
            windowStatuses.allSatisfy {
                ($0.contains("; active, ") || $0.contains("; idle (only the motion check runs), "))
                    && $0.contains(" % of the window gated; ")
            }, "\(windowStatuses)")
        // And it says so when it happens: the corridor is empty for 2 s, then people walk in.
        let idle = notes.firstIndex {
            $0.hasPrefix("STATUS=") && $0.contains("; idle: nothing moves, only the motion check runs; ")
        }
        let active = notes.lastIndex {
            $0.hasPrefix("STATUS=") && $0.contains("; active: something moves or people are in view; ")
        }
        #expect(idle != nil && active != nil && idle! < active!, "\(notes)")
    }

    @Test(
        "a clean stop waits (up to its limit) for a broker that is not there yet, and sends the windows it buffered before saying stopped"
    )
    func cleanStopWaitsForLateBroker() async throws {
        // A dashboard with a persistent session, so that the broker keeps for it what the
        // agent publishes before the dashboard is back.
        let port = try MosquittoBroker.freePort()
        let dashboard = "dashboard-\(port)"
        let broker = try MosquittoBroker(port: port, persistent: true)
        try await Subscriber(port: port, topics: ["edgecensus/runtime/#"], id: dashboard, persistentSession: true)
            .stop()
        try broker.waitUntilSaved(after: Date())  // the dashboard's session, on disk
        broker.stop()
        // Few analyses, so that the recording ends within the client's first reconnect
        // delays (1, 2, 4 s...) even on a busy machine, and the broker it then finds is
        // found well within the stop's 15 s.
        let remote = try configuration(port: port, rate: 0.2)
        // The first video a process opens loads FFmpeg (120 libraries, seconds on a busy
        // machine): done here, so that it does not lengthen the recording.
        _ = try VideoFileSource(path: TestPaths.samples + "/walkers.mp4", realtime: false)
        let log = EventLog()
        let runtime = try AgentRuntime(
            configuration: remote.effective, remote: remote,
            pipeline: try remote.effective.makePipeline(modelsOverride: TestPaths.models),
            version: "test", environment: [:], logger: .silent,
            localWindows: { _ in Issue.record("with MQTT on, no window goes to the local output") },
            events: { log.record($0) })
        let running = Task { await Self.runOnThread(runtime) }
        // The broker comes back only once the recording has ended and the stop has begun:
        // every window is in the ring by then, none sent.
        let deadline = Date().addingTimeInterval(120)
        while !log.all.contains(.stopping) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try broker.start()
        let error = await running.value
        #expect(error == nil, "\(String(describing: error))")
        let watcher = try await Subscriber(
            port: port, topics: ["edgecensus/runtime/#"], id: dashboard, persistentSession: true)
        defer { watcher.stop() }
        _ = try await watcher.wait(for: "edgecensus/runtime/counts", count: 3)
        let messages = await watcher.inbox.messages
        let counts = messages.indices.filter { messages[$0].topic == "edgecensus/runtime/counts" }
        let stopped = messages.lastIndex { $0.topic == "edgecensus/runtime/status" && $0.text == "stopped" }
        #expect(counts.count == 3, "\(messages.map(\.topic))")
        #expect(
            stopped != nil && counts.allSatisfy { $0 < stopped! },
            "\(messages.map { "\($0.topic) \($0.text.prefix(40))" })")
        #expect(counts.last.map { messages[$0].text.contains("\"partial\":true") } == true)
        // The windows that ended while the broker was away were sent from the buffer, so
        // they are marked replayed. The partial last one is closed during the stop: if the
        // client has already reconnected by then (a loaded machine is slow to get there),
        // it goes out live, as any window does when the broker is up.
        let finished = counts.filter { !messages[$0].text.contains("\"partial\":true") }
        #expect(finished.count == 2)
        #expect(
            finished.allSatisfy { messages[$0].text.contains("\"replayed\":true") },
            "\(counts.map { messages[$0].text })")
    }

    @Test(
        "a stop asked from another thread: STOPPING=1 at once, the partial window goes out last, parts stop in order; without MQTT windows go to the local output"
    )
    func requestedStopWithoutBroker() async throws {
        let remote = try configuration(broker: nil, realtime: true)
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let log = EventLog()
        let lines = Mutex<[String]>([])
        let runtime = try AgentRuntime(
            configuration: remote.effective, remote: remote,
            pipeline: try remote.effective.makePipeline(modelsOverride: TestPaths.models),
            version: "test", environment: ["NOTIFY_SOCKET": listener.path], logger: .silent,
            localWindows: { line in lines.withLock { $0.append(line) } }, events: { log.record($0) })
        let running = Task { await Self.runOnThread(runtime) }
        #expect(listener.wait(seconds: 60) { $0.hasPrefix("READY=1") } != nil)
        try await Task.sleep(for: .seconds(1))
        runtime.requestStop()
        runtime.requestStop()  // a second signal changes nothing
        #expect(listener.wait(seconds: 5) { $0.hasPrefix("STOPPING=1") } != nil)
        let error = await running.value
        #expect(error == nil, "\(String(describing: error))")
        #expect(
            log.all == [
                .started(.capture), .started(.sequence), .started(.analysis), .ready,
                .stopping, .stopped(.capture), .stopped(.analysis),
            ], "\(log.all.map(\.description))")
        let written = lines.withLock { $0 }
        // (A wall-clock window may have closed in the meantime; the partial one is last.)
        #expect(written.last?.contains("\"partial\":true") == true, "\(written)")
        #expect(listener.messages.filter { $0.message.hasPrefix("STOPPING=1") }.count == 1)
    }

    @Test("a source that cannot be opened stops the start with a clear error, before anything else starts")
    func startError() throws {
        let remote = try configuration(broker: nil)
        var configuration = remote.effective
        configuration.source.path = directory.file("missing.mp4")
        let log = EventLog()
        do {
            _ = try AgentRuntime(
                configuration: configuration, remote: remote,
                pipeline: try configuration.makePipeline(modelsOverride: TestPaths.models),
                version: "test", environment: [:], logger: .silent, localWindows: { _ in },
                events: { log.record($0) })
            Issue.record("the runtime started without its source")
        } catch let error as AgentRuntime.StartError {
            #expect(error.kind == .source)
            #expect(error.description.contains("missing.mp4"), "\(error)")
        }
        #expect(log.all.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory.file("state/sequence")))
    }
}
