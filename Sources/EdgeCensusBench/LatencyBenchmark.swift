public import EdgeCensusVision
import Foundation

/// Per-stage latency of the photo pipeline, measured over repeated runs.
public struct LatencyBenchmark {
    /// Median and 95th percentile of one stage, in milliseconds.
    public struct Figure: Sendable {
        public var stage: String
        public var median: Double
        public var p95: Double
        public var samples: Int
    }

    public var modelLoadSeconds: Double
    public var figures: [Figure]
    public var threads: Int
    public var facesPerRun: Int
    /// `FacePipeline.summary`: the detector and nets measured.
    public var pipeline = ""

    /// Loads the pipeline with `load` (timed), then runs decode → detect → classify
    /// `runs` times on the photo (after one warm-up run).
    public static func measure(photo: String, runs: Int, load: () throws -> FacePipeline) throws -> LatencyBenchmark {
        let loadStart = ContinuousClock.now
        let pipeline = try load()
        let loadSeconds = (ContinuousClock.now - loadStart).seconds
        var decode: [Double] = [], detect: [Double] = [], align: [Double] = [], classify: [Double] = [],
            total: [Double] = []
        var faces = 0
        for run in 0...runs {
            let start = ContinuousClock.now
            let image = try Image.load(contentsOf: photo)
            let decoded = ContinuousClock.now
            var timings = StageTimings()
            _ = try pipeline.analyse(image, timings: &timings)
            let end = ContinuousClock.now
            guard run > 0 else { continue }  // the first run warms caches and allocators
            faces = timings.faces
            decode.append((decoded - start).seconds * 1000)
            detect.append(timings.detect * 1000)
            if timings.faces > 0 {
                align.append(timings.align * 1000 / Double(timings.faces))
                classify.append(timings.classify * 1000 / Double(timings.faces))
            }
            total.append((end - start).seconds * 1000)
        }
        var figures = [figure("decode", decode), figure("detect", detect)]
        if !align.isEmpty {
            figures += [figure("align, per face", align), figure("classify gender+age, per face", classify)]
        }
        figures.append(figure("whole photo", total))
        return LatencyBenchmark(
            modelLoadSeconds: loadSeconds, figures: figures, threads: OpenCVRuntime.threadCount,
            facesPerRun: faces, pipeline: pipeline.summary)
    }

    static func figure(_ stage: String, _ samples: [Double]) -> Figure {
        let sorted = samples.sorted()
        return Figure(
            stage: stage, median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), samples: sorted.count)
    }

    /// Nearest-rank percentile of sorted samples.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    public var text: String {
        var lines = [
            "OpenCV \(OpenCVRuntime.version), \(threads) thread(s); \(facesPerRun) face(s) in the photo",
            "models: \(pipeline)",
            String(format: "model load        %8.1f ms", modelLoadSeconds * 1000),
            "stage                              median      p95   (runs)",
        ]
        for figure in figures {
            lines.append(
                figure.stage.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + String(format: "%8.2f ms %8.2f ms   (%d)", figure.median, figure.p95, figure.samples))
        }
        return lines.joined(separator: "\n")
    }
}
