import EdgeCensusConfiguration
import EdgeCensusFleet
import EdgeCensusRemoteConfiguration
import EdgeCensusSupport
public import EdgeCensusTelemetry
import Foundation

/// `bench --fleet N`: a simulated fleet of N devices on one broker (see
/// `FleetSimulation`), then the operator's two commands timed against it: the
/// survey behind `fleet status` and one change sent to (up to) 1 000 devices.
/// With the broker's pid, its CPU time and memory as well.
public struct FleetScaleBenchmark: Sendable {
    public var simulation: FleetSimulation
    public var brokerPID: Int32?
    public var bulkDevices = 1000

    public init(simulation: FleetSimulation, brokerPID: Int32?) {
        self.simulation = simulation
        self.brokerPID = brokerPID
    }

    /// The broker's CPU seconds and memory, from /proc.
    struct BrokerReading {
        var cpuSeconds: Double
        var residentMiB: Double
        var peakMiB: Double

        init?(pid: Int32) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            func kib(_ key: String) -> Double {
                status.split(separator: "\n").first { $0.hasPrefix(key + ":") }
                    .flatMap {
                        Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
                    } ?? 0
            }
            residentMiB = kib("VmRSS") / 1024
            peakMiB = kib("VmHWM") / 1024
        }
    }

    public func run(settings: MQTTSettings) async throws -> String {
        let n = simulation.devices
        let before = brokerPID.flatMap(BrokerReading.init(pid:))
        let (result, responder) = try await simulation.run(settings: settings)
        defer { responder.stop() }
        let afterRun = brokerPID.flatMap(BrokerReading.init(pid:))

        var surveySettings = settings
        surveySettings.clientID = settings.clientID + "-survey"
        let survey = FleetSurvey(settings: surveySettings, prefix: simulation.prefix, quietPeriod: 0.5, timeout: 120)
        let surveyStart = ContinuousClock.now
        let found = try await survey.run()
        let surveySeconds = (ContinuousClock.now - surveyStart).seconds

        let targets = (0..<min(bulkDevices, n)).map(simulation.layout)
        var bulkSettings = settings
        bulkSettings.clientID = settings.clientID + "-bulk"
        let bulkStart = ContinuousClock.now
        let answers = try await RemoteConfigurationClient.send(
            .set(.object(["throttle": .object(["max_rate_hz": .int(1)])])),
            settings: bulkSettings, layouts: targets, timeout: 60)
        let bulkSeconds = (ContinuousClock.now - bulkStart).seconds
        let report = BulkChangeReport(devices: targets.map(\.device), answers: answers)
        let applied = report.outcomes.filter { if case .applied = $0.outcome { true } else { false } }.count
        let afterAll = brokerPID.flatMap(BrokerReading.init(pid:))

        let days = result.simulatedSeconds / 86400
        func perDeviceDay(_ value: Int) -> Double { Double(value) / Double(n) / days }
        var lines: [String] = []
        lines.append(
            "fleet of \(n) simulated devices on \(settings.host):\(settings.port), \(simulation.connections) connections, "
                + "\(Int(simulation.windowLength)) s windows, health every \(Int(simulation.healthInterval)) s")
        lines.append(
            String(
                format:
                    "  announce (status, %d discovery configs, config/state per device): %d messages, %.1f MiB in %.1f s",
                result.perConnect.messages["discovery", default: 0] / max(n, 1), result.perConnect.totalMessages,
                Double(result.perConnect.totalBytes) / 1_048_576, result.announceSeconds))
        lines.append(
            String(
                format:
                    "  clock: %.0f simulated s in %.1f s (x%.0f asked, x%.0f reached); %d of %d messages reached a consumer of all",
                result.simulatedSeconds, result.runSeconds, simulation.speed, result.achievedSpeed,
                result.consumed, result.steady.totalMessages))
        let kinds = result.steady.messages.keys.sorted()
        lines.append(
            String(
                format: "  per device per day: %.0f messages, %.2f MiB (topic + payload; ",
                perDeviceDay(result.steady.totalMessages),
                perDeviceDay(result.steady.totalBytes) / 1_048_576)
                + kinds.map {
                    String(
                        format: "%@ %.0f × %.0f B", $0, perDeviceDay(result.steady.messages[$0]!),
                        Double(result.steady.bytes[$0]!) / Double(result.steady.messages[$0]!))
                }.joined(separator: ", ")
                + String(
                    format: "), plus %.0f messages, %.1f KiB per connect",
                    Double(result.perConnect.totalMessages) / Double(n),
                    Double(result.perConnect.totalBytes) / Double(n) / 1024))
        lines.append(
            String(
                format: "  fleet total per day: %.2f million messages, %.2f GiB",
                perDeviceDay(result.steady.totalMessages) * Double(n) / 1e6,
                perDeviceDay(result.steady.totalBytes) * Double(n) / 1_073_741_824))
        lines.append(
            String(
                format: "  fleet status: %d of %d devices in %.2f s (of which %.1f s is the quiet period that ends it)",
                found.count, n, surveySeconds, survey.quietPeriod))
        lines.append(
            String(
                format: "  fleet config set to %d devices: %d applied in %.2f s", targets.count, applied, bulkSeconds))
        if let before, let afterRun, let afterAll {
            let cpu = afterRun.cpuSeconds - before.cpuSeconds
            lines.append(
                String(
                    format: "  broker: %.1f CPU s over the clock (%.0f %% of one core; %.2f ms per 1 000 messages), "
                        + "memory %.1f MiB after (peak %.1f MiB, %.1f MiB before)",
                    cpu, cpu / max(result.runSeconds, 1e-9) * 100,
                    cpu / Double(max(result.steady.totalMessages, 1)) * 1e6,
                    afterAll.residentMiB, afterAll.peakMiB, before.residentMiB))
        }
        return lines.joined(separator: "\n")
    }
}
