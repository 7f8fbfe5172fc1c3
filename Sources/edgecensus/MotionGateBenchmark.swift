import EdgeCensusAgent
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusMotion
import EdgeCensusVision
import Foundation
import Synchronization

/// `bench --video`'s gated-against-ungated figures: the same recording run three
/// times on its own timeline, as fast as the machine goes, at the configured rate:
/// decoding only (the rate set so low that almost nothing is analysed), ungated
/// (`motion.enabled: false`) and gated (`motion.*` as configured). CPU is the
/// process's own, per minute of video.
struct MotionGateBenchmark {
    /// One run's figures.
    struct Run {
        var name: String
        var cpuSeconds: Double
        var videoSeconds: Double
        var detectorPasses: Int
        var people: Int
        var women: Int
        var men: Int
        var ageGroups: [AgeGroup?: Int]
        var gate: AnalysisGate.Figures

        var cpuPerVideoMinute: Double { cpuSeconds / max(videoSeconds, 1e-9) * 60 }

        /// The people counted, as a line that two runs can be compared by.
        var counted: String {
            let ages = ([AgeGroup?.none] + AgeGroup.allCases.map { Optional($0) })
                .compactMap { group in ageGroups[group].map { "\(group?.label ?? "unknown") \($0)" } }
            return "\(people) people (\(women) women, \(men) men; \(ages.joined(separator: ", ")))"
        }
    }

    let path: String
    let pipeline: FacePipeline
    let configuration: AgentConfiguration

    /// Runs the video once with these throttle and motion settings.
    func run(_ name: String, throttle: ThrottleSettings, motion: MotionSettings) throws -> Run {
        let windows = Mutex([CountWindow]())
        let scratch = NSTemporaryDirectory() + "edgecensus-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let loop = AgentLoop(
            pipeline: pipeline, source: try VideoFileSource(path: path, realtime: false),
            settings: AgentLoopSettings(
                device: "bench", windowLength: 3600, kAnonymity: 0, throttle: throttle,
                tracking: configuration.trackingSettings, motion: motion, pacing: .recording(start: 0)),
            sequence: SequenceStore(path: scratch + "/sequence", now: 0),
            emit: { window in windows.withLock { $0.append(window) } })
        let inputs = SystemThrottleInputs()
        let cpuStart = inputs.processCPUTime()
        try loop.run(until: StopRequest())
        let cpu = inputs.processCPUTime() - cpuStart
        let all = windows.withLock { $0 }
        var ages: [AgeGroup?: Int] = [:]
        for window in all { ages.merge(window.ageGroups, uniquingKeysWith: +) }
        return Run(
            name: name, cpuSeconds: cpu, videoSeconds: all.map(\.end).max() ?? 0,
            detectorPasses: all.reduce(0) { $0 + $1.framesAnalysed },
            people: all.reduce(0) { $0 + $1.people },
            women: all.reduce(0) { $0 + ($1.gender[.female] ?? 0) },
            men: all.reduce(0) { $0 + ($1.gender[.male] ?? 0) },
            ageGroups: ages, gate: loop.motionGate)
    }

    /// The three runs and what they say, as lines to print.
    func measure() throws -> [String] {
        var throttle = configuration.throttle
        throttle.cpuBudgetPercent = 400  // the recording's timeline: the rate cap alone applies
        var decodeOnly = throttle
        decodeOnly.maxRateHz = 0.01
        var off = configuration.motion
        off.enabled = false
        var on = configuration.motion
        on.enabled = true
        let decoding = try run("decoding only", throttle: decodeOnly, motion: off)
        let ungated = try run("ungated", throttle: throttle, motion: off)
        let gated = try run("gated", throttle: throttle, motion: on)
        var lines = [
            String(
                format: "on the recording's timeline at %.4g analyses/s (%.0f s of video), CPU per minute of video:",
                throttle.maxRateHz, gated.videoSeconds)
        ]
        for run in [decoding, ungated, gated] {
            lines.append(
                String(
                    format: "  %-14@ %6.2f s CPU/min, %5d detector passes; %@", run.name as NSString,
                    run.cpuPerVideoMinute, run.detectorPasses, run.counted))
        }
        let beyond = { (run: Run) in max(0, run.cpuPerVideoMinute - decoding.cpuPerVideoMinute) }
        lines.append(
            String(
                format:
                    "  gated: %.1f %% of the time gated, %d passes skipped; passes %.3f x ungated; CPU beyond decoding %.3f x ungated (%.2f against %.2f s/min)",
                gated.gate.gatedShare * 100, gated.gate.skipped,
                Double(gated.detectorPasses) / Double(max(ungated.detectorPasses, 1)),
                beyond(gated) / max(beyond(ungated), 1e-9), beyond(gated), beyond(ungated)))
        lines.append(
            "  the same people counted, gated and ungated: " + (gated.counted == ungated.counted ? "yes" : "NO"))
        return lines
    }
}
