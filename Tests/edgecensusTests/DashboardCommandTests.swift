import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("edgecensus dashboard")
struct DashboardCommandTests {
    @Test(
        "without --device, the dashboard is for the configuration file's device.id, its entity ids Home Assistant's slugs"
    )
    func deviceFromConfiguration() throws {
        let directory = try TemporaryDirectory()
        let config = directory.file("edgecensus.yaml")
        try writeFile(config, Data("device: {id: Shop-2}\n".utf8))
        let result = try ProcessRunner.run(TestPaths.executable, ["dashboard", "--config", config])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("entity: binary_sensor.edgecensus_shop_2_connected"))
        #expect(result.standardOutput.contains("title: EdgeCensus Shop-2"))
        #expect(!result.standardOutput.contains("edgecensus_Shop-2"))
    }

    @Test("a device id that cannot be one, or --days out of range, is refused with the rule it breaks")
    func refusals() throws {
        let badDevice = try ProcessRunner.run(TestPaths.executable, ["dashboard", "--device", "hall/1"])
        #expect(
            badDevice.status != 0
                && badDevice.standardError.contains("--device 'hall/1' may hold only ASCII letters, digits"),
            "\(badDevice.standardError)")
        let badDays = try ProcessRunner.run(TestPaths.executable, ["dashboard", "--device", "hall", "--days", "0"])
        #expect(
            badDays.status != 0 && badDays.standardError.contains("--days 0 is out of range; expected 1 to 365"),
            "\(badDays.standardError)")
        #expect(badDevice.standardOutput.isEmpty && badDays.standardOutput.isEmpty)
    }
}
