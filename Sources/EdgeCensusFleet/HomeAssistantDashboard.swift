import EdgeCensusTelemetry
import Foundation
import Yams

/// A Home Assistant dashboard for one or more devices, made of Home Assistant's
/// built-in cards only, naming the entities the agent's discovery announces.
///
/// Each device gets a view:
/// - its state: *Connected*, people in the last hour, people in view, and the last
///   window (people, when it ended, median dwell);
/// - people per hour over the last `days` days, from Home Assistant's long-term
///   statistics (the hourly sums of the windows), as bars;
/// - women, men and gender unknown per day, and the age groups per day;
/// - the last window's split by gender and age group;
/// - the health figures.
/// With more than one device a first view lists them all: *Connected* and the people
/// in the last hour of each.
///
/// The text is YAML for a dashboard in YAML mode (`lovelace: dashboards:` in
/// `configuration.yaml`) or for the raw configuration editor of a dashboard made in the UI.
public struct HomeAssistantDashboard: Sendable {
    public var devices: [String]
    /// How many days the hourly and daily graphs show.
    public var days: Int

    public init(devices: [String], days: Int = 7) {
        self.devices = devices
        self.days = days
    }

    /// The dashboard as YAML.
    public func yaml() throws -> String {
        var views: [Node] = []
        if devices.count > 1 { views.append(fleetView()) }
        views += devices.map(deviceView)
        let root = Node([("title", "EdgeCensus"), ("views", Node(views))] as [(Node, Node)])
        let header = """
            # EdgeCensus dashboard for \(devices.joined(separator: ", ")), made by `edgecensus dashboard`.
            # Home Assistant's built-in cards only; the entities are those the agent announces
            # by MQTT discovery (mqtt.discovery: true). See "Home Assistant" in MQTT.md.

            """
        return header + (try Yams.serialize(node: root, width: -1, allowUnicode: true, sortKeys: false))
    }

    /// The entity ids of one device, by the agent's own id for each (`people`, `connected`, …).
    public static func entityIDs(device: String) -> [String: String] {
        Dictionary(
            TelemetryDocuments.discovery(layout: TopicLayout(device: device), version: "").map { ($0.id, $0.entityID) },
            uniquingKeysWith: { first, _ in first })
    }

    // MARK: - Views

    private func fleetView() -> Node {
        let rows: [Node] = devices.flatMap { device -> [Node] in
            let ids = Self.entityIDs(device: device)
            return [
                Node([("type", "section"), ("label", Node(device))] as [(Node, Node)]),
                entityRow(ids["connected"]!, name: "Connected"),
                entityRow(ids["people_last_hour"]!, name: "People in the last hour"),
            ]
        }
        return Node(
            [
                ("title", "Devices"), ("path", "edgecensus-devices"), ("icon", "mdi:devices"),
                ("cards", Node([card("entities", title: "Devices", [("entities", Node(rows))])])),
            ] as [(Node, Node)])
    }

    private func deviceView(_ device: String) -> Node {
        let ids = Self.entityIDs(device: device)
        func id(_ key: String) -> String { ids[key]! }
        let ageGroups = ids.keys.filter { $0.hasPrefix("age_") }.sorted(by: Self.ageOrder)
        let now = card(
            "entities", title: "EdgeCensus \(device)",
            [
                ("state_color", Node("true", Tag(.bool))),
                (
                    "entities",
                    Node([
                        entityRow(id("connected"), name: "Connected"),
                        entityRow(id("people_last_hour"), name: "People in the last hour"),
                        entityRow(id("in_view"), name: "People in view"),
                        entityRow(id("people"), name: "People, last window"),
                        Node(
                            [
                                ("type", "attribute"), ("entity", Node(id("people"))), ("attribute", "window_end"),
                                ("name", "Last window ended"), ("format", "relative"),
                            ] as [(Node, Node)]),
                        entityRow(id("dwell_median"), name: "Median dwell, last window"),
                    ])
                ),
            ])
        let perHour = statisticsGraph("People per hour", entities: [(id("people"), "People")], period: "hour")
        let genderPerDay = statisticsGraph(
            "Women and men per day",
            entities: [
                (id("gender_female"), "Women"), (id("gender_male"), "Men"), (id("gender_unknown"), "Gender unknown"),
            ], period: "day")
        let agePerDay = statisticsGraph(
            "Age groups per day", entities: ageGroups.map { (id($0), Self.ageName($0)) }, period: "day")
        let lastWindowGender = card(
            "glance", title: "Last window: gender",
            [
                (
                    "entities",
                    Node([
                        entityRow(id("gender_female"), name: "Women"), entityRow(id("gender_male"), name: "Men"),
                        entityRow(id("gender_unknown"), name: "Unknown"),
                    ])
                )
            ])
        let lastWindowAge = card(
            "glance", title: "Last window: age groups",
            [
                ("columns", 3),
                ("entities", Node(ageGroups.map { entityRow(id($0), name: Self.ageName($0)) })),
            ])
        let health = card(
            "entities", title: "Health",
            [
                (
                    "entities",
                    Node(
                        [
                            ("cpu", "CPU"), ("temperature", "Temperature"), ("inference_time", "Inference time"),
                            ("memory", "Memory"),
                            ("analysis_rate", "Analysis rate"), ("buffered_windows", "Buffered windows"),
                            ("dropped_windows", "Dropped windows"),
                        ].map { entityRow(id($0.0), name: $0.1) })
                )
            ])
        return Node(
            [
                ("title", Node(device)),
                (
                    "path",
                    Node(
                        "edgecensus-"
                            + TelemetryDocuments.homeAssistantSlug(device).replacingOccurrences(of: "_", with: "-"))
                ),
                ("icon", "mdi:account-group"),
                ("cards", Node([now, perHour, genderPerDay, agePerDay, lastWindowGender, lastWindowAge, health])),
            ] as [(Node, Node)])
    }

    // MARK: - Cards

    private func card(_ type: String, title: String, _ fields: [(Node, Node)]) -> Node {
        // (Typed first: Swift 6.0.3, Debian 13's, takes the sum for a throwing NodeRepresentable otherwise.)
        let pairs: [(Node, Node)] = [("type", Node(type)), ("title", Node(title))] + fields
        return Node(pairs)
    }

    private func entityRow(_ entity: String, name: String) -> Node {
        Node([("entity", Node(entity)), ("name", Node(name))] as [(Node, Node)])
    }

    /// A bar graph of each entity's change per period (the sum of its windows): the
    /// statistic Home Assistant keeps for `total` sensors.
    private func statisticsGraph(_ title: String, entities: [(String, String)], period: String) -> Node {
        card(
            "statistics-graph", title: title,
            [
                ("entities", Node(entities.map { entityRow($0.0, name: $0.1) })),
                ("stat_types", Node([Node("change")])),
                ("period", Node(period)),
                ("days_to_show", Node(String(days), Tag(.int))),
                ("chart_type", "bar"),
            ])
    }

    /// `age_0_2` → `0–2`, `age_unknown` → `unknown`.
    private static func ageName(_ key: String) -> String {
        let rest = key.dropFirst("age_".count)
        return rest == "unknown" ? "Age unknown" : rest.replacingOccurrences(of: "_", with: "–")
    }

    /// Youngest first, unknown last.
    private static func ageOrder(_ a: String, _ b: String) -> Bool {
        func lower(_ key: String) -> Int { Int(key.split(separator: "_").dropFirst().first ?? "") ?? Int.max }
        return lower(a) < lower(b)
    }
}
