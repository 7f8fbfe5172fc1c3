import ArgumentParser
import EdgeCensusAgent
import EdgeCensusBench
import EdgeCensusBuffer
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusEvaluation
import EdgeCensusFleet
import EdgeCensusMotion
import EdgeCensusTelemetry
import EdgeCensusVision
import Foundation
import Synchronization

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print per-stage latency figures (a measurement, not a test).",
        discussion: """
            Loads the models (timed), then analyses the photo N times: decode, detect, align and \
            classify per face, and the whole photo; median and 95th percentile.

            With --video: the agent's figures instead — analysed frames per second with no \
            throttle; the CPU per minute of video on the recording's own timeline at \
            throttle.max_rate_hz, decoding only, ungated (motion.enabled false) and gated, with the \
            detector passes and the people each counted; and the CPU (percent of one core) and \
            resident memory the agent uses when it analyses 1 and 2 frames per second of the video \
            played in real time.

            With --static-scene: the agent on an empty room seen by a camera-like source \
            (YUYV 640x480 at --fps, sensor noise) for --seconds (default 60), at the configured \
            settings: CPU in percent of one core, detector passes, and the time gated.

            With --mqtt HOST[:PORT]: publish throughput to that broker — QoS 1 counts documents, \
            one at a time and with 10 in flight (--messages each) — and the resident memory.

            With --buffer: the offline buffer — append throughput with and without fsync and \
            the bytes written per window (in --directory, default the temporary directory: point it \
            at the SD card to measure that), recovery time of a full 16 MiB ring, and, with \
            --mqtt too, the time to replay 10 000 buffered windows to that broker.

            With --fleet N --mqtt HOST[:PORT]: N simulated devices publishing to that broker as \
            agents do (discovery, status, config/state, then windows and health on a clock --speed \
            times faster than real), then `fleet status` and a `fleet config set` to up to 1 000 of \
            them, timed; messages and bytes per device per day; with --broker-pid, the broker's CPU \
            and memory. Use a broker of its own: it leaves N devices' retained messages behind.

            Examples:
              edgecensus bench --fleet 1000 --mqtt localhost:1884 --broker-pid "$(pgrep -n mosquitto)"
              edgecensus bench --runs 50 --threads 1 etc/samples/astronaut.png
              edgecensus bench --buffer --directory /var/lib/edgecensus --mqtt localhost
              edgecensus bench --video etc/samples/day.mp4
              edgecensus bench --static-scene --fps 10
              edgecensus bench --mqtt localhost --messages 5000
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "How many timed runs.")
    var runs = 30

    @Option(
        name: .long, help: "OpenCV threads (default: the configuration's classification.threads, else OpenCV's own).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Measure the agent on this video instead of a photo.", valueName: "file"))
    var video: String?

    @Option(
        name: .long,
        help:
            "With --video: seconds of real-time play at each throttled rate (default 15); with --static-scene: seconds measured (default 60)."
    )
    var seconds: Double?

    @Flag(name: .long, help: "Measure the agent on an empty room seen by a camera-like source.")
    var staticScene = false

    @Option(name: .long, help: "With --static-scene: the camera's frames per second.")
    var fps = 10.0

    @Option(
        name: .long, help: ArgumentHelp("Measure publishing to this MQTT broker instead.", valueName: "host[:port]"))
    var mqtt: String?

    @Option(name: .long, help: "With --mqtt: messages per measurement.")
    var messages = 2000

    @Option(name: .long, help: ArgumentHelp("With --mqtt: simulate this many devices on the broker.", valueName: "N"))
    var fleet: Int?

    @Option(name: .long, help: "With --fleet: simulated seconds per real second.")
    var speed = 60.0

    @Option(name: .long, help: "With --fleet: simulated hours.")
    var simulatedHours = 1.0

    @Option(name: .long, help: "With --fleet: the broker's process id, to read its CPU time and memory.")
    var brokerPid: Int32?

    @Flag(name: .long, help: "Measure the offline buffer (ring file).")
    var buffer = false

    @Option(name: .long, help: ArgumentHelp("With --buffer: where to write the test rings.", valueName: "dir"))
    var directory: String?

    @Argument(help: ArgumentHelp("The photo to analyse.", valueName: "photo"))
    var photo: String?

    func validate() throws {
        guard runs > 0, messages > 0 else { throw ValidationError("--runs and --messages must be positive.") }
        if buffer {
            guard photo == nil, video == nil else {
                throw ValidationError("--buffer measures the ring file: no photo or --video with it.")
            }
            return
        }
        if staticScene {
            guard photo == nil, video == nil, mqtt == nil else {
                throw ValidationError(
                    "--static-scene measures a camera-like source: no photo, --video or --mqtt with it.")
            }
            guard fps > 0, fps <= 120, (seconds ?? 60) > 0 else {
                throw ValidationError("--fps must be from 0 to 120 and --seconds positive.")
            }
            return
        }
        guard [photo, video, mqtt].compactMap({ $0 }).count == 1 else {
            throw ValidationError("Give a photo, --video FILE, --static-scene, --mqtt HOST[:PORT] or --buffer.")
        }
    }

    func run() throws {
        if buffer { return try benchBuffer() }
        if staticScene { return try benchStaticScene() }
        if let fleet {
            guard let mqtt, fleet > 0 else { throw ValidationError("--fleet N needs N > 0 and --mqtt HOST[:PORT].") }
            return try benchFleet(fleet, mqtt)
        }
        if let video { return try benchVideo(video) }
        if let mqtt { return try benchMQTT(mqtt) }
        guard let photo else { return }
        do {
            let result = try LatencyBenchmark.measure(photo: photo, runs: runs) {
                let pipeline = try modelOptions.loadPipeline().1
                if let threads { OpenCVRuntime.setThreadCount(threads) }
                return pipeline
            }
            print(result.text)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }

    private func benchFleet(_ devices: Int, _ mqtt: String) throws {
        let broker = try BrokerAddress(mqtt, defaultPort: 1883)
        var settings = MQTTSettings()
        settings.host = broker.host
        settings.port = broker.port
        settings.clientID = "edgecensus-bench-fleet-\(getpid())"
        let simulation = FleetSimulation(
            devices: devices, prefix: "benchfleet", discoveryPrefix: "benchfleet-homeassistant",
            speed: speed, simulatedSeconds: simulatedHours * 3600)
        let benchmark = FleetScaleBenchmark(simulation: simulation, brokerPID: brokerPid)
        switch blockingWait({ [settings] in try await benchmark.run(settings: settings) }) {
        case .success(let text): print(text)
        case .failure(let error):
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }

    private func benchVideo(_ path: String) throws {
        let (configuration, pipeline) = try modelOptions.loadPipeline(forPhotos: false)
        if let threads { OpenCVRuntime.setThreadCount(threads) }
        let inputs = SystemThrottleInputs()
        do {
            // Every frame analysed, as fast as the agent goes: the agent's own loop on the
            // recording's timeline (detect, track, classify the unsettled faces, count).
            var everyFrame = configuration.throttle
            everyFrame.maxRateHz = 1000
            var ungated = configuration.motion
            ungated.enabled = false
            let scratch = NSTemporaryDirectory() + "edgecensus-bench-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let windows = Mutex([CountWindow]())
            let loop = AgentLoop(
                pipeline: pipeline, source: try VideoFileSource(path: path, realtime: false),
                settings: AgentLoopSettings(
                    device: "bench", windowLength: 3600, kAnonymity: 0, throttle: everyFrame,
                    tracking: configuration.trackingSettings, motion: ungated, pacing: .recording(start: 0)),
                sequence: SequenceStore(path: scratch + "/sequence", now: 0),
                emit: { window in windows.withLock { $0.append(window) } })
            let startWall = inputs.now(), startCPU = inputs.processCPUTime(), startForward = pipeline.forwardSeconds
            try loop.run(until: StopRequest())
            let wall = inputs.now() - startWall, cpu = inputs.processCPUTime() - startCPU
            let forward = pipeline.forwardSeconds - startForward
            let frames = max(1, windows.withLock { $0.reduce(0) { $0 + $1.framesAnalysed } })
            let work = loop.classificationWork
            print("OpenCV \(OpenCVRuntime.version), \(OpenCVRuntime.threadCount) thread(s); \(path)")
            print("models: \(pipeline.summary)")
            print(
                String(
                    format:
                        "every frame analysed: %.2f frames/s (%d frames), %.1f ms CPU per frame (%.0f %% of one core)",
                    Double(frames) / wall, frames, cpu / Double(frames) * 1000, cpu / wall * 100))
            print(
                String(
                    format:
                        "per frame: %.2f ms in all, %.2f ms in the nets' forward passes (%.0f %%), %.2f ms the pipeline's own "
                        + "(decode, resize, blobs, landmarks, crops, tracking: %.1f %% of the forward time)",
                    wall / Double(frames) * 1000, forward / Double(frames) * 1000, forward / wall * 100,
                    (wall - forward) / Double(frames) * 1000, (wall - forward) / max(forward, 1e-9) * 100))
            print(
                String(
                    format: "faces: %d classified, %d not (settled people): %.1f %% of the classification saved",
                    work.classified, work.skipped, work.savedShare * 100))
            print("resident memory after the run: " + (ResidentMemory.now().map(\.description) ?? "not readable here"))
            for line in try MotionGateBenchmark(path: path, pipeline: pipeline, configuration: configuration).measure()
            { print(line) }
            // Throttled, with the video played as a camera would deliver it.
            for rate in [1.0, 2.0] {
                var throttle = configuration.throttle
                throttle.maxRateHz = rate
                throttle.cpuBudgetPercent = 400
                let directory = NSTemporaryDirectory() + "edgecensus-bench-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let loop = AgentLoop(
                    pipeline: pipeline, source: try VideoFileSource(path: path, realtime: true),
                    settings: AgentLoopSettings(
                        device: "bench", windowLength: 3600, kAnonymity: 0, throttle: throttle,
                        tracking: configuration.trackingSettings, motion: configuration.motion, pacing: .live),
                    sequence: SequenceStore(path: directory + "/sequence", now: 0), emit: { _ in })
                let stop = StopRequest()
                let timer = DispatchSource.makeTimerSource(queue: .global())
                timer.schedule(deadline: .now() + (seconds ?? 15))
                timer.setEventHandler { stop.request() }
                timer.resume()
                let wallStart = inputs.now(), cpuStart = inputs.processCPUTime()
                try loop.run(until: stop)
                timer.cancel()
                let elapsed = inputs.now() - wallStart, used = inputs.processCPUTime() - cpuStart
                print(
                    String(
                        format:
                            "played in real time at %.0f analyses/s: CPU %.1f %% of one core (effective rate %.2f/s over %.0f s, %.0f %% of it gated)",
                        rate, used / elapsed * 100, loop.effectiveRate, elapsed, loop.motionGate.gatedShare * 100)
                        + (ResidentMemory.now().map { ", resident memory \($0.description)" } ?? ""))
            }
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }

    private func benchStaticScene() throws {
        let (configuration, pipeline) = try modelOptions.loadPipeline(forPhotos: false)
        if let threads { OpenCVRuntime.setThreadCount(threads) }
        let measured = seconds ?? 60
        do {
            let camera = StaticSceneCamera(fps: fps)
            let directory = NSTemporaryDirectory() + "edgecensus-bench-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let windows = Mutex([CountWindow]())
            let loop = AgentLoop(
                pipeline: pipeline, source: camera,
                settings: AgentLoopSettings(
                    device: "bench", windowLength: 3600, kAnonymity: 0, throttle: configuration.throttle,
                    tracking: configuration.trackingSettings, motion: configuration.motion, pacing: .live),
                sequence: SequenceStore(path: directory + "/sequence", now: 0),
                emit: { window in windows.withLock { $0.append(window) } })
            let stop = StopRequest()
            let inputs = SystemThrottleInputs()
            // The first seconds (the first frame's detector pass, the nets' first run) are left out.
            let warmUp = 3.0
            let start = Mutex<(wall: Double, cpu: Double)?>(nil)
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + warmUp)
            timer.setEventHandler { start.withLock { $0 = (inputs.now(), inputs.processCPUTime()) } }
            timer.resume()
            let stopper = DispatchSource.makeTimerSource(queue: .global())
            stopper.schedule(deadline: .now() + warmUp + measured)
            stopper.setEventHandler { stop.request() }
            stopper.resume()
            var end: (wall: Double, cpu: Double) = (0, 0)
            let ended = DispatchSemaphore(value: 0)
            let endTimer = DispatchSource.makeTimerSource(queue: .global())
            endTimer.schedule(deadline: .now() + warmUp + measured)
            endTimer.setEventHandler {
                end = (inputs.now(), inputs.processCPUTime()); ended.signal()
            }
            endTimer.resume()
            try loop.run(until: stop)
            ended.wait()
            timer.cancel(); stopper.cancel(); endTimer.cancel()
            guard let begun = start.withLock({ $0 }) else { return }
            let elapsed = end.wall - begun.wall, used = end.cpu - begun.cpu
            let gate = loop.motionGate
            let passes = windows.withLock { $0.reduce(0) { $0 + $1.framesAnalysed } }
            print("OpenCV \(OpenCVRuntime.version), \(OpenCVRuntime.threadCount) thread(s); \(camera.description)")
            print(
                String(
                    format: "motion %@ (threshold %.4g, min area %.4g %%), throttle %.4g analyses/s",
                    configuration.motion.enabled ? "gated" : "off (every allowed analysis runs)",
                    configuration.motion.threshold, configuration.motion.minAreaPercent,
                    configuration.throttle.maxRateHz))
            print(
                String(
                    format:
                        "CPU %.2f %% of one core over %.0f s (after %.0f s of warm-up); %d detector passes in the whole run, %.1f %% of the time gated",
                    used / elapsed * 100, elapsed, warmUp, passes, gate.gatedShare * 100)
                    + (ResidentMemory.now().map { "; resident memory \($0.description)" } ?? ""))
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }

    private func benchMQTT(_ address: String) throws {
        let broker = try BrokerAddress(address, defaultPort: 1883)
        var settings = MQTTSettings()
        settings.host = broker.host
        settings.port = broker.port
        settings.clientID = "edgecensus-bench-\(getpid())"
        let before = ResidentMemory.now()
        let outcome = blockingWait { [settings, messages] in
            try await PublishBenchmark.measure(
                settings: settings, messages: messages, inFlight: [1, 10], topic: "edgecensus/bench/counts")
        }
        switch outcome {
        case .success(let result):
            print("broker \(broker.host):\(broker.port), MQTT \(settings.protocolVersion.rawValue)")
            print(result.text)
            if let before, let after = ResidentMemory.now() {
                print("resident memory: \(before.description) before connecting, \(after.description) after")
            }
        case .failure(let error):
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }

    private func benchBuffer() throws {
        let folder = directory ?? NSTemporaryDirectory()
        do {
            print(try BufferBenchmark.append(directory: folder, count: 2000, sync: .never))
            print(try BufferBenchmark.append(directory: folder, count: 500, sync: .always))
            print(try BufferBenchmark.append(directory: folder, count: 2000, sync: .never, acknowledging: true))
            print(try BufferBenchmark.append(directory: folder, count: 500, sync: .always, acknowledging: true))
            print(try BufferBenchmark.recovery(directory: folder, megabytes: 16, runs: 5))
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
        guard let mqtt else { return }
        let broker = try BrokerAddress(mqtt, defaultPort: 1883)
        var settings = MQTTSettings()
        settings.host = broker.host
        settings.port = broker.port
        settings.clientID = "edgecensus-bench-\(getpid())"
        switch blockingWait({ [settings] in
            try await BufferBenchmark.replay(directory: folder, count: 10_000, settings: settings)
        }) {
        case .success(let line): print(line)
        case .failure(let error):
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(1)
        }
    }
}
