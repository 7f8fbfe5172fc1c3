import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusRemoteConfiguration
import EdgeCensusTelemetry
import EdgeCensusTestSupport
import Foundation
import Testing

/// `edgecensus run` reconfigured over MQTT through a real broker.
@Suite("edgecensus run configured over MQTT", .tags(.broker), .serialized)
struct RunRemoteConfigurationTests {
    let broker: MosquittoBroker
    let directory: TemporaryDirectory
    let layout = TopicLayout(device: "hall")

    init() throws {
        broker = try MosquittoBroker()
        directory = try TemporaryDirectory()
    }

    /// The sample video in real time ends after 58 s, and the agent with it; `endless`
    /// is a camera that is not there, retried for ever (empty windows go on), for a
    /// test that needs the agent up however slowly a loaded machine answers.
    func configFile(protocolVersion: String = "5", windowLength: Int = 20, endless: Bool = false) throws -> String {
        let path = directory.file("edgecensus.yaml")
        let source =
            endless
            ? "{kind: camera, device: /dev/edgecensus-absent}"
            : "{kind: video, path: \(TestPaths.samples)/walkers.mp4, realtime: true}"
        let text = """
            device: {id: hall}
            source: \(source)
            windows: {length: \(windowLength)}
            throttle: {max_rate_hz: 2}
            state: {directory: \(directory.file("state"))}
            mqtt: {host: 127.0.0.1, port: \(broker.port), protocol: "\(protocolVersion)", health_interval: 1, discovery: false}
            """
        try writeFile(path, Data(text.utf8))
        return path
    }

    /// Starts the agent (real time on the sample video: about a minute, unless stopped).
    func startAgent(config: String) throws -> Process { try BackgroundAgent.start(config: config) }

    func stopAgent(_ process: Process) { BackgroundAgent.kill(process) }

    static func object(_ message: MQTTMessage?) -> [String: Any] {
        message.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] } ?? [:]
    }

    /// Sends a request and waits for the answer carrying its transaction.
    func request(_ body: String, transaction: String, from ops: Subscriber, retain: Bool = false) async throws
        -> [String: Any]
    {
        let text = "{\"transaction\":\"\(transaction)\"" + (body.isEmpty ? "" : ",") + body + "}"
        try await ops.client.publish(MQTTMessage(topic: layout.configSet, text: text, qos: 1, retain: retain))
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let answer = await ops.inbox.on(layout.configResult).map(Self.object).first(where: {
                $0["transaction"] as? String == transaction
            }) {
                return answer
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no answer to \(transaction)")
        return [:]
    }

    /// Sends a request whose transaction cannot be read and returns the `count`-th answer.
    func lastAnswer(after body: String, count: Int, from ops: Subscriber) async throws -> [String: Any] {
        try await ops.client.publish(MQTTMessage(topic: layout.configSet, text: "{" + body + "}", qos: 1))
        return Self.object(try await ops.wait(for: layout.configResult, count: count).last)
    }

    @Test("every kind of bad request gets an error on config/result and leaves the configuration untouched")
    func refusals() async throws {
        let agent = try startAgent(config: try configFile(endless: true))
        defer { stopAgent(agent) }
        let ops = try await Subscriber(port: broker.port, topics: [layout.base + "/config/#"])
        defer { ops.stop() }
        #expect(Self.object(try await ops.wait(for: layout.configState).last)["config_version"] as? Int == 0)
        let cases: [(String, String)] = [
            (#""throttle": {"max_rate_hz": "fast"}"#, "throttle.max_rate_hz = \"fast\""),
            (#""throttle": {"max_rate_hz": 5000}"#, "out of range"),
            (#""throttle": {"max_rate": 1}"#, "unknown key"),
            (#""mqtt": {"password_file": "/etc/shadow"}"#, "only in the local configuration file"),
            (#""config_version": 9, "windows": {"length": 30}"#, "stale"),
            (#""windows": {"length": 30}, "tracking": {"min_overlap": 7}"#, "tracking.min_overlap = 7"),
            ("\"padding\": \"" + String(repeating: "x", count: 20_000) + "\"", "at most 16384 are accepted"),
        ]
        for (index, (body, expected)) in cases.enumerated() {
            // (A request too large to be read has no transaction to echo: it is the last answer.)
            let tooLarge = body.count > 16384
            let answer =
                tooLarge
                ? try await lastAnswer(after: body, count: index + 1, from: ops)
                : try await request(body, transaction: "bad-\(index)", from: ops)
            #expect(answer["status"] as? String == "error")
            #expect((answer["error"] as? String)?.contains(expected) == true, "\(answer)")
        }
        // Not JSON at all (no transaction to echo): answered too.
        try await ops.client.publish(MQTTMessage(topic: layout.configSet, text: "max_rate_hz=1", qos: 1))
        _ = try await ops.wait(for: layout.configResult, count: cases.count + 1)
        #expect(
            (Self.object(await ops.inbox.on(layout.configResult).last)["error"] as? String)?.contains("not valid JSON")
                == true)
        let state = Self.object(await ops.inbox.on(layout.configState).last)
        #expect(state["config_version"] as? Int == 0)
        #expect(((state["config"] as? [String: Any])?["windows"] as? [String: Any])?["length"] as? Double == 20)
        #expect(!FileManager.default.fileExists(atPath: directory.file("state/remote-config.json")))
        try await Self.expectSchemas(await ops.inbox.messages, layout: layout)
    }

    /// Every answer and state document follows its published JSON Schema.
    static func expectSchemas(_ messages: [MQTTMessage], layout: TopicLayout, replies: String? = nil) async throws {
        // The operator's own requests on config/set are not the agent's to document.
        let messages = messages.filter { $0.topic != layout.configSet }
        let payloads = messages.compactMap { message -> (label: String, schema: String, payload: [UInt8])? in
            if let replies, message.topic.hasPrefix(replies) {
                return (message.topic, "config-result", message.payload)
            }
            return SchemaValidator.schema(forTopic: message.topic, layout: layout).map {
                (message.topic, $0, message.payload)
            }
        }
        #expect(payloads.count == messages.count)
        let problems = try SchemaValidator.problems(payloads)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(
        "a valid change is applied at once, persisted, reported on config/state, answered on the MQTT 5 response topic, and in force after a restart"
    )
    func acceptedChange() async throws {
        let config = try configFile()
        var agent = try startAgent(config: config)
        let ops = try await Subscriber(
            port: broker.port, topics: [layout.base + "/config/#", layout.health, "ops/replies/#"])
        defer { ops.stop() }
        _ = try await ops.wait(for: layout.configState)
        let body =
            #"{"transaction":"t1","config_version":0,"throttle":{"max_rate_hz":0.5},"detection":{"confidence_threshold":0.6}}"#
        try await ops.client.publish(
            MQTTMessage(
                topic: layout.configSet, text: body, qos: 1,
                responseTopic: "ops/replies/7", correlationData: [7, 7, 7]))
        let reply = try await ops.wait(for: "ops/replies/7").first
        #expect(reply?.correlationData == [7, 7, 7])
        let answer = Self.object(reply)
        #expect(answer["status"] as? String == "ok" && answer["config_version"] as? Int == 1, "\(answer)")
        #expect(answer["restart_required"] as? [String] == ["detection.confidence_threshold"])
        #expect(Self.object(try await ops.wait(for: layout.configResult).first)["transaction"] as? String == "t1")
        let state = Self.object(try await ops.wait(for: layout.configState, count: 2).last)
        #expect(state["config_version"] as? Int == 1)
        // The running agent reports the new rate in its health.
        let deadline = Date().addingTimeInterval(30)
        var configured: Double?
        while Date() < deadline, configured != 0.5 {
            let health = Self.object(await ops.inbox.on(layout.health).last)
            configured = (health["analysis_rate"] as? [String: Any])?["configured"] as? Double
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(configured == 0.5)
        try await Self.expectSchemas(
            await ops.inbox.messages.filter { $0.topic != layout.health }, layout: layout, replies: "ops/replies/")
        stopAgent(agent)

        let late = try await Subscriber(port: broker.port, topics: [layout.configState])
        defer { late.stop() }
        agent = try startAgent(config: config)
        defer { stopAgent(agent) }
        let deadline2 = Date().addingTimeInterval(60)
        var restarted: [String: Any] = [:]
        // The restarted agent's own state (not the retained one the first agent left behind).
        while Date() < deadline2 {
            if let live = await late.inbox.on(layout.configState).last(where: { !$0.retain }) {
                restarted = Self.object(live)
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(restarted["config_version"] as? Int == 1)
        #expect(
            ((restarted["config"] as? [String: Any])?["throttle"] as? [String: Any])?["max_rate_hz"] as? Double == 0.5)
        #expect(
            ((restarted["config"] as? [String: Any])?["detection"] as? [String: Any])?["confidence_threshold"]
                as? Double == 0.6)
    }

    @Test(
        "a retained config/set is never applied: MQTT 5 never receives it, MQTT 3.1.1 answers why",
        arguments: ["5", "3.1.1"])
    func retained(protocolVersion: String) async throws {
        let ops = try await Subscriber(port: broker.port, topics: [layout.base + "/config/#"])
        defer { ops.stop() }
        try await ops.client.publish(
            MQTTMessage(
                topic: layout.configSet, text: #"{"transaction":"old","windows":{"length":30}}"#,
                qos: 1, retain: true))
        let agent = try startAgent(config: try configFile(protocolVersion: protocolVersion, endless: true))
        defer { stopAgent(agent) }
        _ = try await ops.wait(for: layout.configState)
        // A live request after it, to know the agent has handled everything before.
        let probe = try await request("", transaction: "probe", from: ops)
        #expect(probe["status"] as? String == "ok")
        let answers = await ops.inbox.on(layout.configResult).map(Self.object)
        let old = answers.first { $0["transaction"] as? String == "old" }
        if protocolVersion == "5" {
            #expect(old == nil)
        } else {
            #expect((old?["error"] as? String)?.contains("retained") == true, "\(answers)")
        }
        #expect(Self.object(await ops.inbox.on(layout.configState).last)["config_version"] as? Int == 0)
        // Clear the retained message for the next test.
        try await ops.client.publish(MQTTMessage(topic: layout.configSet, payload: [], qos: 1, retain: true))
    }

    @Test(
        "a config/set retained while the agent is connected: MQTT 5 refuses it (Retain As Published) and says to clear it; MQTT 3.1.1 cannot tell it from a live one",
        arguments: ["5", "3.1.1"])
    func retainedWhileConnected(protocolVersion: String) async throws {
        let agent = try startAgent(config: try configFile(protocolVersion: protocolVersion, endless: true))
        defer { stopAgent(agent) }
        let ops = try await Subscriber(port: broker.port, topics: [layout.base + "/config/#"])
        defer { ops.stop() }
        #expect(Self.object(try await ops.wait(for: layout.configState).last)["config_version"] as? Int == 0)
        let answer = try await request(#""windows": {"length": 30}"#, transaction: "kept", from: ops, retain: true)
        // Clear the retained message for the next test whatever happened.
        try await ops.client.publish(MQTTMessage(topic: layout.configSet, payload: [], qos: 1, retain: true))
        if protocolVersion == "5" {
            #expect(answer["status"] as? String == "error", "\(answer)")
            let error = answer["error"] as? String ?? ""
            #expect(error.contains("retained") && error.contains("clear it"), "\(error)")
            let probe = try await request("", transaction: "probe", from: ops)
            #expect(probe["config_version"] as? Int == 0, "the refused request changed nothing: \(probe)")
        } else {
            // What the README documents: the broker forwards it unflagged, so it is applied.
            #expect(answer["status"] as? String == "ok", "\(answer)")
            #expect(answer["config_version"] as? Int == 1)
        }
    }

    @Test("a shorter window length applies from the next window on, while the agent runs")
    func windowLengthLive() async throws {
        let agent = try startAgent(config: try configFile(windowLength: 4))
        defer { stopAgent(agent) }
        let ops = try await Subscriber(port: broker.port, topics: [layout.base + "/config/#", layout.counts])
        defer { ops.stop() }
        _ = try await ops.wait(for: layout.configState)
        let answer = try await request(#""windows": {"length": 2}"#, transaction: "w", from: ops)
        #expect(answer["status"] as? String == "ok")
        let before = await ops.inbox.on(layout.counts).count
        let windows = try await ops.wait(for: layout.counts, count: before + 4)
        let lengths = windows.suffix(2).map(Self.object).map { window -> Double in
            let formatter = ISO8601DateFormatter()
            let start = formatter.date(from: window["window_start"] as? String ?? "") ?? .distantPast
            let end = formatter.date(from: window["window_end"] as? String ?? "") ?? .distantPast
            return end.timeIntervalSince(start)
        }
        #expect(lengths == [2, 2])
    }

    @Test(
        "the motion gate is turned off remotely while the agent runs: health says so, and from then on no detector pass is saved"
    )
    func motionGateLive() async throws {
        let agent = try startAgent(config: try configFile())
        defer { stopAgent(agent) }
        let ops = try await Subscriber(port: broker.port, topics: [layout.base + "/config/#", layout.health])
        defer { ops.stop() }
        _ = try await ops.wait(for: layout.configState)
        let first = Self.object(try await ops.wait(for: layout.health).last)
        #expect((first["motion"] as? [String: Any])?["enabled"] as? Bool == true, "\(first)")
        let answer = try await request(#""motion": {"enabled": false, "threshold": 30}"#, transaction: "m", from: ops)
        #expect(
            answer["status"] as? String == "ok" && (answer["restart_required"] as? [Any])?.isEmpty == true, "\(answer)")
        // config/state follows the answer; it may reach this subscriber a moment after it.
        func motion(_ state: [String: Any]) -> [String: Any] {
            ((state["config"] as? [String: Any])?["motion"] as? [String: Any]) ?? [:]
        }
        let changed = try await ops.wait(for: layout.configState) {
            Self.object($0)["config_version"] as? Int == answer["config_version"] as? Int
        }
        let state = Self.object(changed)
        #expect(motion(state)["enabled"] as? Bool == false && motion(state)["threshold"] as? Double == 30, "\(state)")
        // Reports after the change: the gate is off, and every analysis the throttle allowed ran.
        let before = await ops.inbox.on(layout.health).count
        let reports = try await ops.wait(for: layout.health, count: before + 3).suffix(2).map(Self.object)
        for report in reports {
            let gate = (report["motion"] as? [String: Any]) ?? [:]
            #expect(
                gate["enabled"] as? Bool == false && gate["passes_saved"] as? Int == 0
                    && gate["state"] as? String == "active", "\(report)")
            #expect((gate["detector_passes"] as? Int ?? 0) >= 1, "\(report)")
        }
    }

    @Test(
        "a camera change reopens the capture while the agent runs: the windows go on without a gap and health names the new device"
    )
    func cameraReopened() async throws {
        // No camera here: the agent keeps retrying a device that is not there, and counts empty windows.
        let path = directory.file("camera.yaml")
        try writeFile(
            path,
            Data(
                """
                device: {id: hall}
                source: {kind: camera, device: /dev/edgecensus-absent-0}
                windows: {length: 2}
                state: {directory: \(directory.file("state"))}
                mqtt: {host: 127.0.0.1, port: \(broker.port), health_interval: 1, discovery: false}
                """.utf8))
        let log = directory.file("agent.log")
        let agent = try BackgroundAgent.start(config: path, log: log)
        defer { stopAgent(agent) }
        let ops = try await Subscriber(
            port: broker.port, topics: [layout.base + "/config/#", layout.counts, layout.health])
        defer { ops.stop() }
        _ = try await ops.wait(for: layout.counts)
        let answer = try await request(
            #""source": {"device": "/dev/edgecensus-absent-1", "width": 800}"#, transaction: "cam", from: ops)
        #expect(
            answer["status"] as? String == "ok" && (answer["restart_required"] as? [Any])?.isEmpty == true, "\(answer)")
        let before = await ops.inbox.on(layout.counts).count
        let windows = try await ops.wait(for: layout.counts, count: before + 3).map(Self.object)
        let sequences = windows.compactMap { $0["seq"] as? Int }
        #expect(sequences == Array(sequences[0]..<(sequences[0] + sequences.count)), "\(sequences)")
        // The first window began before the agent did (partial); none after it is.
        #expect(windows.dropFirst().allSatisfy { $0["partial"] as? Bool == false })
        #expect(
            try String(contentsOfFile: log, encoding: .utf8).contains(
                "capture reopened: camera /dev/edgecensus-absent-1"))
        let deadline = Date().addingTimeInterval(30)
        var camera = ""
        while Date() < deadline, !camera.contains("absent-1") {
            camera = Self.object(await ops.inbox.on(layout.health).last)["camera"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(camera.contains("/dev/edgecensus-absent-1"))
    }

    @Test("an agent killed while it saves changes leaves the old or the new configuration, never a broken file")
    func killedWhileSaving() async throws {
        let config = try configFile()
        var lastVersion = 0
        for round in 0..<5 {
            let agent = try startAgent(config: config)
            let ops = try await Subscriber(port: broker.port, topics: [layout.configState, layout.configResult])
            // This agent's own state (live, not the retained one an earlier agent left) says it listens.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !(await ops.inbox.on(layout.configState).contains { !$0.retain }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            // A stream of changes; once the agent is saving them, a kill somewhere in the middle.
            for index in 0..<40 {
                let rate = index % 2 == 0 ? 1.0 : 0.5
                try await ops.client.publish(
                    MQTTMessage(topic: layout.configSet, text: "{\"throttle\":{\"max_rate_hz\":\(rate)}}", qos: 1))
                if index == 3 { _ = try await ops.wait(for: layout.configResult) }
                if index == 6 + round * 6 { kill(agent.processIdentifier, SIGKILL) }
            }
            waitForExit(agent, timeout: 10)
            ops.stop()
            let reloaded = try RemoteConfiguration(localFile: config)
            #expect(reloaded.loadNote == nil, "round \(round): \(reloaded.loadNote ?? "")")
            #expect([2.0, 1.0, 0.5].contains(reloaded.effective.throttle.maxRateHz))
            #expect(reloaded.version >= lastVersion)
            lastVersion = reloaded.version
        }
        #expect(lastVersion > 0, "no change was ever saved before the kill: the test proved nothing")
    }
}
