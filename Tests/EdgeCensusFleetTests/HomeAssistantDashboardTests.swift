import EdgeCensusFleet
import EdgeCensusTelemetry
import Testing
import Yams

@Suite("A Home Assistant dashboard for devices")
struct HomeAssistantDashboardTests {
    /// The dashboard as parsed YAML.
    static func parsed(_ dashboard: HomeAssistantDashboard) throws -> [String: Any] {
        try #require(try Yams.load(yaml: try dashboard.yaml()) as? [String: Any])
    }

    static func views(_ document: [String: Any]) -> [[String: Any]] { document["views"] as? [[String: Any]] ?? [] }
    static func cards(_ view: [String: Any]) -> [[String: Any]] { view["cards"] as? [[String: Any]] ?? [] }

    /// Every `entity:` anywhere below `node`.
    static func entities(in node: Any) -> [String] {
        if let map = node as? [String: Any] {
            return (map["entity"] as? String).map { [$0] } ?? [] + map.values.flatMap(entities)
        }
        if let list = node as? [Any] { return list.flatMap(entities) }
        return []
    }

    @Test("one device: a view of built-in cards only, every entity one the agent's discovery announces for that device")
    func oneDevice() throws {
        let document = try Self.parsed(HomeAssistantDashboard(devices: ["hall"]))
        let views = Self.views(document)
        try #require(views.count == 1)
        let cards = Self.cards(views[0])
        #expect(
            Set(cards.compactMap { $0["type"] as? String }).isSubset(of: ["entities", "statistics-graph", "glance"]))
        let announced = Set(
            TelemetryDocuments.discovery(layout: TopicLayout(device: "hall"), version: "1").map(\.entityID))
        let named = Self.entities(in: views[0])
        #expect(!named.isEmpty && Set(named).isSubset(of: announced), "\(Set(named).subtracting(announced))")
        #expect(named.contains("binary_sensor.edgecensus_hall_connected"))
        #expect(named.contains("sensor.edgecensus_hall_people_last_hour"))
        #expect(named.contains("sensor.edgecensus_hall_cpu"))
    }

    @Test("people per hour and the gender and age splits per day are statistics graphs of the windows' sums, as bars")
    func statisticsGraphs() throws {
        let cards = Self.cards(Self.views(try Self.parsed(HomeAssistantDashboard(devices: ["hall"], days: 14)))[0])
        let graphs = cards.filter { $0["type"] as? String == "statistics-graph" }
        let byTitle = Dictionary(uniqueKeysWithValues: graphs.map { ($0["title"] as? String ?? "", $0) })
        let perHour = try #require(byTitle["People per hour"])
        #expect(perHour["period"] as? String == "hour" && perHour["days_to_show"] as? Int == 14)
        #expect(Self.entities(in: perHour) == ["sensor.edgecensus_hall_people"])
        let gender = try #require(byTitle["Women and men per day"])
        #expect(
            Set(Self.entities(in: gender)) == [
                "sensor.edgecensus_hall_gender_female", "sensor.edgecensus_hall_gender_male",
                "sensor.edgecensus_hall_gender_unknown",
            ])
        let age = try #require(byTitle["Age groups per day"])
        #expect(Self.entities(in: age).first == "sensor.edgecensus_hall_age_0_2")
        #expect(Self.entities(in: age).last == "sensor.edgecensus_hall_age_unknown")
        #expect(Self.entities(in: age).count == 9)
        for graph in graphs {
            // `change`: what a `total` sensor adds in each period; a bar per period.
            #expect(graph["stat_types"] as? [String] == ["change"] && graph["chart_type"] as? String == "bar")
        }
    }

    @Test(
        "several devices: a first view lists each one's Connected and people in the last hour, then a view per device")
    func severalDevices() throws {
        let views = Self.views(try Self.parsed(HomeAssistantDashboard(devices: ["hall", "Shop-2"])))
        #expect(views.map { $0["path"] as? String } == ["edgecensus-devices", "edgecensus-hall", "edgecensus-shop-2"])
        #expect(
            Self.entities(in: views[0]) == [
                "binary_sensor.edgecensus_hall_connected", "sensor.edgecensus_hall_people_last_hour",
                "binary_sensor.edgecensus_shop_2_connected", "sensor.edgecensus_shop_2_people_last_hour",
            ])
        #expect(Self.entities(in: views[2]).allSatisfy { $0.contains(".edgecensus_shop_2_") })
    }
}
