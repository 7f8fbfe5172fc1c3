public import EdgeCensusCounting
import Foundation

/// The throttle's inputs read from this machine: the monotonic clock, the
/// process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`), and the first thermal zone
/// in `/sys/class/thermal` (millidegrees) when there is one.
public struct SystemThrottleInputs: ThrottleInputs {
    public let thermalZone: String

    public init(thermalZone: String = "/sys/class/thermal/thermal_zone0/temp") {
        self.thermalZone = thermalZone
    }

    public func now() -> Double { ProcessInfo.processInfo.systemUptime }

    public func processCPUTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    public func temperature() -> Double? {
        guard let text = try? String(contentsOfFile: thermalZone, encoding: .utf8),
            let milli = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return milli / 1000
    }
}
