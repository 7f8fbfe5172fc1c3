import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusSupport
import Foundation

/// `fleet status` as a table (one line per device) or as JSON, at a given time.
public struct FleetStatusReport: Sendable {
    public var devices: [DeviceReport]
    public var prefix: String
    public var now: Double

    public init(devices: [DeviceReport], prefix: String, now: Double) {
        self.devices = devices
        self.prefix = prefix
        self.now = now
    }

    public static let columns = [
        "DEVICE", "STATUS", "LAST WINDOW", "PEOPLE/1H", "BUFFERED", "VERSION", "CONFIG", "CPU", "TEMP", "HEALTH",
    ]

    /// `12 s`, `4 min`, `3 h`, `2 d`: how long ago.
    public static func age(_ seconds: Double) -> String {
        let s = max(0, seconds)
        switch s {
        case ..<120: return "\(Int(s)) s"
        case ..<7200: return "\(Int(s / 60)) min"
        case ..<172_800: return "\(Int(s / 3600)) h"
        default: return "\(Int(s / 86400)) d"
        }
    }

    func row(_ report: DeviceReport) -> [String] {
        let dash = "-"
        var people = report.peopleLastHour.map(String.init) ?? dash
        if let hidden = report.suppressedWindowsLastHour, hidden > 0 { people += " (+\(hidden) hidden)" }
        return [
            report.device,
            report.status ?? "unknown",
            report.lastWindowEnd.map { Self.age(now - $0) + " ago" } ?? dash,
            people,
            report.bufferedWindows.map(String.init) ?? dash,
            report.version ?? dash,
            report.configVersion.map { "v\($0)" } ?? dash,
            report.cpuPercent.map { String(format: "%.0f%%", $0) } ?? dash,
            report.temperature.map { String(format: "%.0f°C", $0) } ?? dash,
            report.healthTime.map { Self.age(now - $0) + " ago" } ?? dash,
        ]
    }

    /// Aligned columns with a header, and a last line counting devices by status.
    public var table: String {
        let rows = [Self.columns] + devices.map(row)
        var widths = Array(repeating: 0, count: Self.columns.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines = rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        var byStatus: [String: Int] = [:]
        for report in devices { byStatus[report.status ?? "unknown", default: 0] += 1 }
        lines.append(
            "\(devices.count) device(s): "
                + byStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// `edgecensus.fleet-status/1`: the same figures, ages in seconds, nulls where unknown.
    public var json: String {
        func optional<T>(_ value: T?, _ make: (T) -> JSONValue) -> JSONValue {
            value.map(make) ?? .null
        }
        let rounded = { (value: Double) in JSONValue.double((value * 10).rounded() / 10) }
        let items: [JSONValue] = devices.map { report in
            .object([
                "device": .string(report.device),
                "status": optional(report.status) { .string($0) },
                "last_window_age_seconds": optional(report.lastWindowEnd) { rounded(now - $0) },
                "last_window_seq": optional(report.lastWindowSequence) { .int($0) },
                "people_last_hour": optional(report.peopleLastHour) { .int($0) },
                "suppressed_windows_last_hour": optional(report.suppressedWindowsLastHour) { .int($0) },
                "buffered_windows": optional(report.bufferedWindows) { .int($0) },
                "dropped_windows": optional(report.droppedWindows) { .int($0) },
                "version": optional(report.version) { .string($0) },
                "config_version": optional(report.configVersion) { .int($0) },
                "cpu_percent": optional(report.cpuPercent) { rounded($0) },
                "temperature_c": optional(report.temperature) { rounded($0) },
                "camera": optional(report.camera) { .string($0) },
                "health_age_seconds": optional(report.healthTime) { rounded(now - $0) },
                "problems": .array(report.problems.map { .string($0) }),
            ])
        }
        return JSONValue.object([
            "schema": .string("edgecensus.fleet-status/1"), "prefix": .string(prefix),
            "time": .string(InternetTime.string(now)),
            "devices": .array(items),
        ]).json
    }
}
