import EdgeCensusConfiguration
import EdgeCensusRemoteConfiguration
import EdgeCensusSupport
import Foundation

/// What each device said to one change sent to many (`fleet config set`).
public struct BulkChangeReport: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Applied: the configuration version it is at now, and keys that need a restart.
        case applied(configVersion: Int?, restartRequired: [String])
        /// Refused, with the device's reason (nothing was changed on it).
        case refused(reason: String)
        case noAnswer
    }

    public var outcomes: [(device: String, outcome: Outcome)]

    /// `answers`: the answer documents by device (from `RemoteConfigurationClient.send`); a device without one did not answer.
    public init(devices: [String], answers: [String: String]) {
        outcomes = devices.map { device in
            guard let text = answers[device] else { return (device, .noAnswer) }
            let members = (try? JSONValue.parse(json: Data(text.utf8)))?.object ?? [:]
            if members["status"] == .string("ok") {
                var restart: [String] = []
                if case .array(let keys)? = members["restart_required"] {
                    restart = keys.compactMap { if case .string(let key) = $0 { key } else { nil } }
                }
                return (
                    device,
                    .applied(
                        configVersion: members["config_version"].flatMap(DeviceReport.int), restartRequired: restart)
                )
            }
            let reason = members["error"].flatMap(DeviceReport.string) ?? "the answer was not understood: \(text)"
            return (device, .refused(reason: reason))
        }
    }

    /// True when every device applied the change.
    public var allApplied: Bool {
        outcomes.allSatisfy { if case .applied = $0.outcome { true } else { false } }
    }

    public var table: String {
        var rows = [["DEVICE", "RESULT", "CONFIG", "DETAIL"]]
        var applied = 0, refused = 0, silent = 0
        for (device, outcome) in outcomes {
            switch outcome {
            case .applied(let version, let restart):
                applied += 1
                rows.append([
                    device, "applied", version.map { "v\($0)" } ?? "-",
                    restart.isEmpty ? "" : "restart needed for " + restart.joined(separator: ", "),
                ])
            case .refused(let reason):
                refused += 1
                rows.append([device, "refused", "-", reason])
            case .noAnswer:
                silent += 1
                rows.append([
                    device, "no answer", "-", "not running, not connected to this broker, or another device.id",
                ])
            }
        }
        var widths = [0, 0, 0]
        for row in rows { for i in 0..<3 { widths[i] = max(widths[i], row[i].count) } }
        var lines = rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[3]
        }.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
        lines.append("\(outcomes.count) device(s): \(applied) applied, \(refused) refused, \(silent) did not answer")
        return lines.joined(separator: "\n")
    }
}
