import Testing

@testable import EdgeCensusBench

@Suite("Latency figures")
struct LatencyBenchmarkTests {
    @Test("percentiles use the nearest rank")
    func percentile() {
        let figure = LatencyBenchmark.figure("stage", Array(1...20).map(Double.init))
        #expect(figure.median == 10)
        #expect(figure.p95 == 19)
    }
}
