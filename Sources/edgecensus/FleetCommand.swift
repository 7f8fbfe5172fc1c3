import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusFleet
import EdgeCensusRemoteConfiguration
import EdgeCensusSupport
import EdgeCensusTelemetry
import Foundation

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The operator's view of every device on a broker, and one change sent to many.",
        discussion: """
            Devices are found under mqtt.topic_prefix from what the broker retains for each: \
            status, the latest window (state), the latest health report and config/state. \
            The broker, TLS and credentials are those of the configuration file (--config, else \
            /etc/edgecensus/edgecensus.yaml); --mqtt overrides the host and port. Nothing is \
            published except by `fleet config set`.
            """,
        subcommands: [Status.self, Config.self])

    struct BrokerOptions: ParsableArguments {
        @Option(
            name: .long,
            help: ArgumentHelp(
                "Configuration file (YAML) whose mqtt section says how to reach the broker.", valueName: "file"))
        var config: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The broker (default: mqtt.host and mqtt.port of the configuration file).", valueName: "host[:port]"))
        var mqtt: String?

        @Option(name: .long, help: "The topic prefix (default: mqtt.topic_prefix of the configuration file).")
        var prefix: String?

        /// Connection settings and topic prefix, or a one-line error and exit status 2.
        func settingsAndPrefix(role: String) throws -> (MQTTSettings, String) {
            do {
                let file = ModelOptions.configurationFile(given: config)
                let mqttConfiguration = try
                    (file.map { try AgentConfiguration.load(file: $0) }?.mqtt ?? AgentConfiguration().mqtt)
                    .overridden(by: mqtt)
                var settings = mqttConfiguration.settings(device: "fleet")
                settings.clientID = "edgecensus-fleet-\(role)-\(getpid())"
                return (settings, prefix ?? mqttConfiguration.topicPrefix)
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "One line per device: status, age of the last window, people in the last hour, buffer, versions, CPU, temperature.",
            discussion: """
                STATUS is online, offline (gone without a clean stop: its last will) or stopped (a clean stop). \
                PEOPLE/1H adds the windows that ended in the hour before the device's last health report, \
                as published ("+N hidden": windows whose total k-anonymity hid). HEALTH is the age of that report. \
                Exit 0 with at least one device found, 1 with none, 2 when the broker cannot be read.

                Examples:
                  edgecensus fleet status --mqtt broker.local
                  edgecensus fleet status --devices 'shop-*' --json
                """)

        @OptionGroup var broker: BrokerOptions

        @Option(
            name: .long, help: ArgumentHelp("Only devices whose id matches this shell pattern.", valueName: "pattern"))
        var devices: String?

        @Flag(name: .long, help: "Print edgecensus.fleet-status/1 JSON instead of a table.")
        var json = false

        @Option(name: .long, help: "Seconds to wait for the broker.")
        var timeout = 10.0

        @Option(name: .long, help: "Seconds without a retained message after which the survey is taken as complete.")
        var quiet = 0.5

        func run() throws {
            let (settings, prefix) = try broker.settingsAndPrefix(role: "status")
            let survey = FleetSurvey(settings: settings, prefix: prefix, quietPeriod: quiet, timeout: timeout)
            var reports: [DeviceReport]
            switch blockingWait({ try await survey.run() }) {
            case .success(let found): reports = found
            case .failure(let error):
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            if let devices { reports = reports.filter { DeviceSelection.pattern(devices).matches($0.device) } }
            let report = FleetStatusReport(devices: reports, prefix: survey.prefix, now: Date().timeIntervalSince1970)
            print(json ? report.json : report.table)
            if reports.isEmpty {
                StandardError.print(
                    "edgecensus: no device found under '\(survey.prefix)/' on \(settings.host):\(settings.port)"
                        + (devices.map { " matching '\($0)'" } ?? ""))
                throw ExitCode(1)
            }
        }
    }

    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change remote keys on many devices at once.",
            subcommands: [SetKeys.self])
    }

    struct SetKeys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Send one change to many devices and print what each answered.",
            discussion: """
                The same KEY=VALUE change as `config set`, sent to every device a pattern matches \
                (among those the broker knows, as `fleet status` finds them) or a file lists (one id per \
                line, # comments). Each device applies all of it or none; each answer is matched to its \
                request (MQTT 5 correlation data, or the transaction with 3.1.1). \
                Exit 0: every device applied it; 1: any refused or did not answer within --timeout; 2: nothing sent.

                Examples:
                  edgecensus fleet config set throttle.max_rate_hz=1 --devices 'shop-*' --mqtt broker.local
                  edgecensus fleet config set windows.k_anonymity=5 --devices-from stores.txt --expect-version 3
                """)

        @Argument(help: ArgumentHelp("KEY=VALUE, with dotted keys.", valueName: "key=value"))
        var assignments: [String]

        @OptionGroup var broker: BrokerOptions

        @Option(
            name: .long,
            help: ArgumentHelp("The devices whose id matches this shell pattern ('*': all).", valueName: "pattern"))
        var devices: String?

        @Option(name: .long, help: ArgumentHelp("The devices listed in this file.", valueName: "file"))
        var devicesFrom: String?

        @Option(name: .long, help: "Seconds to wait for the answers once the change is sent.")
        var timeout = 10.0

        @Option(name: .long, help: "Refuse on every device not at this configuration version.")
        var expectVersion: Int?

        @Option(
            name: .long,
            help: "With --devices: seconds without a retained message after which the devices found are taken as all.")
        var quiet = 0.5

        func validate() throws {
            guard (devices == nil) != (devicesFrom == nil) else {
                throw ValidationError("give either --devices PATTERN or --devices-from FILE")
            }
        }

        func run() throws {
            let (settings, prefix) = try broker.settingsAndPrefix(role: "config")
            var patch: JSONValue
            let selection: DeviceSelection
            do {
                patch = try RemoteConfigurationClient.patch(from: assignments)
                selection = try devicesFrom.map { try DeviceSelection.list(fromFile: $0) } ?? .pattern(devices ?? "")
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            if let expectVersion { patch = patch.merging(patch: .object(["config_version": .int(expectVersion)])) }
            var known: [String] = []
            if case .pattern = selection {
                let survey = FleetSurvey(
                    settings: settings, prefix: prefix, quietPeriod: quiet, timeout: max(timeout, 10))
                switch blockingWait({ try await survey.run() }) {
                case .success(let found): known = found.map(\.device)
                case .failure(let error):
                    StandardError.print("edgecensus: \(error)")
                    throw ExitCode(2)
                }
            }
            let targets = selection.devices(known: known)
            guard !targets.isEmpty else {
                StandardError.print(
                    "edgecensus: no device under '\(prefix)/' matches '\(devices ?? "")'; nothing sent (see `edgecensus fleet status`)"
                )
                throw ExitCode(2)
            }
            let layouts = targets.map { TopicLayout(prefix: prefix, device: $0) }
            let request = RemoteConfigurationClient.Request.set(patch)
            let answers: [String: String]
            switch blockingWait({
                try await RemoteConfigurationClient.send(
                    request, settings: settings, layouts: layouts, timeout: timeout)
            }) {
            case .success(let received): answers = received
            case .failure(let error):
                StandardError.print("edgecensus: \(error); nothing was changed")
                throw ExitCode(2)
            }
            let report = BulkChangeReport(devices: targets, answers: answers)
            print(report.table)
            if !report.allApplied { throw ExitCode(1) }
        }
    }
}
