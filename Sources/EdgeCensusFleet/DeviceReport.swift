import EdgeCensusConfiguration
import EdgeCensusCounting
import EdgeCensusSupport
import Foundation

/// What the broker holds about one device: its retained `status`, `state` (the
/// latest window), `health` and `config/state`, read into the figures an operator
/// compares across a fleet. Any of them may be missing (a device that never
/// finished a window, an older agent without retained health).
public struct DeviceReport: Sendable, Equatable {
    public var device: String
    /// `online`, `offline` (the will: it went away without saying), `stopped` (a clean stop), or nil when none is retained.
    public var status: String?
    /// The latest window's end and people (nil: hidden by k-anonymity).
    public var lastWindowEnd: Double?
    public var lastWindowSequence: Int?
    /// From the latest health report.
    public var healthTime: Double?
    public var version: String?
    public var peopleLastHour: Int?
    /// Windows of the last hour whose people were hidden (not in `peopleLastHour`).
    public var suppressedWindowsLastHour: Int?
    public var bufferedWindows: Int?
    public var droppedWindows: Int?
    public var cpuPercent: Double?
    public var temperature: Double?
    public var camera: String?
    /// From `config/state`.
    public var configVersion: Int?
    /// Documents that could not be read, by topic kind (`health: not JSON`).
    public var problems: [String] = []

    public init(device: String) {
        self.device = device
    }

    /// The kinds of retained topic a report is made from, as they follow `<prefix>/<device>/`.
    public static let topicKinds = ["status", "state", "health", "config/state"]

    /// Takes in one retained document (`kind`: one of `topicKinds`). An empty payload
    /// (a cleared retained message) clears what that topic gave.
    public mutating func absorb(kind: String, payload: [UInt8]) {
        if kind == "status" {
            status = payload.isEmpty ? nil : String(decoding: payload, as: UTF8.self)
            return
        }
        guard !payload.isEmpty else { return }
        guard let document = try? JSONValue.parse(json: Data(payload)), let members = document.object else {
            problems.append("\(kind): not a JSON object")
            return
        }
        switch kind {
        case "state":
            lastWindowEnd = members["window_end"].flatMap(Self.time)
            lastWindowSequence = members["seq"].flatMap(Self.int)
        case "health":
            healthTime = members["time"].flatMap(Self.time)
            version = members["version"].flatMap(Self.string)
            camera = members["camera"].flatMap(Self.string)
            cpuPercent = members["cpu_percent"].flatMap(Self.number)
            temperature = members["temperature_c"].flatMap(Self.number)
            bufferedWindows = document.value(at: "buffer.windows").flatMap(Self.int)
            droppedWindows = document.value(at: "buffer.dropped_windows").flatMap(Self.int)
            peopleLastHour = document.value(at: "last_hour.people").flatMap(Self.int)
            suppressedWindowsLastHour = document.value(at: "last_hour.suppressed_windows").flatMap(Self.int)
        case "config/state":
            configVersion = members["config_version"].flatMap(Self.int)
        default:
            break
        }
    }

    static func int(_ value: JSONValue) -> Int? {
        if case .int(let number) = value { return number }
        return nil
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    /// `2026-01-01T09:01:00Z` as Unix seconds.
    static func time(_ value: JSONValue) -> Double? {
        guard case .string(let text) = value else { return nil }
        return InternetTime.seconds(text)
    }
}
