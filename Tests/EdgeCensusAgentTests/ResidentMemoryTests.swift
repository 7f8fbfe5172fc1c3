import EdgeCensusAgent
import Testing

@Suite("Resident memory")
struct ResidentMemoryTests {
    @Test("VmRSS and VmHWM are read from /proc/self/status, in bytes")
    func parses() {
        let status = "Name:\tedgecensus\nVmPeak:\t  400000 kB\nVmHWM:\t   98765 kB\nVmRSS:\t   91234 kB\nThreads:\t7\n"
        #expect(ResidentMemory.parse(status: status) == ResidentMemory(current: 91234 * 1024, peak: 98765 * 1024))
        #expect(ResidentMemory.parse(status: "Name:\tx\n") == nil)
    }

    @Test("this process has a resident size, at most its peak")
    func reads() throws {
        let memory = try #require(ResidentMemory.now())
        #expect(memory.current > 1_000_000 && memory.current <= memory.peak)
    }
}
