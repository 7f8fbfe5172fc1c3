import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusFleet
import Foundation

struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Prints a Home Assistant dashboard (YAML) for one or more devices.",
        discussion: """
            Built-in cards only: Connected, people in the last hour and in view, the last window; \
            people per hour and, per day, women, men and the age groups (statistics graphs); the \
            last window's split; the health figures. The entities are those the agent announces by \
            MQTT discovery (mqtt.discovery: true, the default). Without --device, the device id of \
            the configuration file (--config, else /etc/edgecensus/edgecensus.yaml; else the host name).

            Install it in Home Assistant either way:
              - a new dashboard (Settings > Dashboards > Add dashboard > New dashboard from scratch), \
            then, on it, Edit > Raw configuration editor: paste the output and save;
              - or a YAML-mode dashboard: save the output as edgecensus-dashboard.yaml beside \
            configuration.yaml and add to configuration.yaml:
                  lovelace:
                    dashboards:
                      edgecensus-devices:
                        mode: yaml
                        filename: edgecensus-dashboard.yaml
                        title: EdgeCensus
                        icon: mdi:account-group

            Examples:
              edgecensus dashboard --device hall > edgecensus-dashboard.yaml
              edgecensus dashboard --device hall --device entrance --days 14
            """)

    @Option(name: .long, help: ArgumentHelp("A device id (repeat for several; each gets a view).", valueName: "id"))
    var device: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Configuration file (YAML) whose device.id is used without --device.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Days of hourly and daily bars the graphs show (1 to 365).")
    var days: Int = 7

    func validate() throws {
        guard (1...365).contains(days) else {
            throw ValidationError("--days \(days) is out of range; expected 1 to 365")
        }
        for id in device {
            if let problem = AgentConfiguration.deviceIDProblem(id) {
                throw ValidationError("--device '\(id.prefix(80))' \(problem)")
            }
        }
    }

    func run() throws {
        var devices = device
        if devices.isEmpty {
            do {
                let file = ModelOptions.configurationFile(given: config)
                devices = [
                    try (file.map { try AgentConfiguration.load(file: $0) } ?? AgentConfiguration()).effectiveDeviceID
                ]
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
        }
        var seen = Set<String>()
        devices = devices.filter { seen.insert($0).inserted }
        print(try HomeAssistantDashboard(devices: devices, days: days).yaml(), terminator: "")
    }
}
