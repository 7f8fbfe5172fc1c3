import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusRemoteConfiguration
import EdgeCensusRuntime
import EdgeCensusSupport
import EdgeCensusTelemetry
import Foundation

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a configuration file, show the configuration in force, or change a device's over MQTT.",
        subcommands: [Validate.self, Show.self, Keys.self, SetKeys.self, CheckRequest.self])

    /// Where the broker is, for talking to a device: the local file's `mqtt` section, or `--mqtt`.
    struct BrokerOptions: ParsableArguments {
        @Option(name: .long, help: "The device's id (its device.id), as in its topics.")
        var device: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The broker (default: mqtt.host and mqtt.port of the configuration file).", valueName: "host[:port]"))
        var mqtt: String?

        @Option(name: .long, help: "Seconds to wait for the device's answer.")
        var timeout = 10.0

        func exchange(_ request: RemoteConfigurationClient.Request, configuration: AgentConfiguration) throws {
            try ConfigCommand.exchange(
                request, device: device, mqtt: mqtt, timeout: timeout, configuration: configuration)
        }
    }

    static func settingsAndLayout(device: String, mqtt: String?, configuration: AgentConfiguration) throws -> (
        MQTTSettings, TopicLayout
    ) {
        let mqttConfiguration = try configuration.mqtt.overridden(by: mqtt)
        var settings = mqttConfiguration.settings(device: device)
        settings.clientID = "edgecensus-config-\(getpid())"
        let layout = TopicLayout(
            prefix: mqttConfiguration.topicPrefix, device: device, discoveryPrefix: mqttConfiguration.discoveryPrefix)
        return (settings, layout)
    }

    /// Sends the request, prints the answer; exit 0 when the device says ok, 1 when it refuses, 2 without an answer.
    static func exchange(
        _ request: RemoteConfigurationClient.Request, device: String, mqtt: String?, timeout: Double,
        configuration: AgentConfiguration
    ) throws {
        let (settings, layout) = try settingsAndLayout(device: device, mqtt: mqtt, configuration: configuration)
        switch blockingWait({
            try await RemoteConfigurationClient.send(request, settings: settings, layout: layout, timeout: timeout)
        }) {
        case .success(let answer):
            print(answer)
            let status = (try? JSONValue.parse(json: Data(answer.utf8)))?.object?["status"]
            if status != .string("ok") { throw ExitCode(1) }
        case .failure(let error):
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every configuration key: its default, range, meaning and what a remote change does.",
            discussion: """
                Every format is made from the one key table: markdown is the Configuration article's \
                reference, man is edgecensus.yaml(5), yaml is the sample etc/edgecensus.yaml, schema \
                is the config-state JSON schema. A test checks that the committed copies are current.
                """)

        @Option(help: "text, markdown, man, yaml or schema.")
        var format = "text"

        func run() throws {
            guard let format = ConfigurationReference.Format(rawValue: format) else {
                throw ValidationError(
                    "--format \(format): expected \(ConfigurationReference.Format.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            print(ConfigurationReference.document(format), terminator: "")
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file with every check the agent makes; exit 0 if it is valid, 2 if not.",
            discussion: """
                Every problem is reported, each with its key and line, not just the first. Beyond the \
                file itself it checks what `run` would refuse at start: the models (loaded, checksums \
                verified), the video file or image folder, the MQTT password file and TLS files. A \
                camera that is not plugged in is a note: the agent waits for it.
                """)

        @Argument(help: ArgumentHelp("The YAML file.", valueName: "file"))
        var file: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The models directory (default: models.directory, else found automatically).", valueName: "dir"))
        var models: String?

        @Flag(name: .long, help: "Check the file and the files it names without loading the networks (faster).")
        var noModels = false

        func run() throws {
            let check = ConfigurationCheck.run(file: file, modelsOverride: models, loadModels: !noModels)
            for problem in check.problems { StandardError.print("edgecensus: \(problem)") }
            for note in check.notes { StandardError.print("edgecensus: note: \(note)") }
            guard check.isValid, let configuration = check.configuration else {
                StandardError.print(
                    "edgecensus: \(file): \(check.problems.count) problem\(check.problems.count == 1 ? "" : "s")")
                throw ExitCode(2)
            }
            print(
                "\(file): valid (device \(configuration.effectiveDeviceID), source \(configuration.source.kind.rawValue), "
                    + "windows of \(Int(configuration.windowLength)) s, MQTT \(configuration.mqtt.isEnabled ? configuration.mqtt.host : "off"))"
            )
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show the remote keys in force: here (the local file with the remote changes kept beside it), or on a device (--device).",
            discussion: """
                Examples:
                  edgecensus config show                       (this machine: /etc/edgecensus/edgecensus.yaml and its state directory)
                  edgecensus config show --device hall --mqtt broker.local
                """)

        @Option(name: .long, help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
        var config: String?

        @Option(name: .long, help: "Ask this device over MQTT instead.")
        var device: String?

        @Option(name: .long, help: ArgumentHelp("With --device: the broker.", valueName: "host[:port]"))
        var mqtt: String?

        @Option(name: .long, help: "With --device: seconds to wait for the answer.")
        var timeout = 10.0

        func run() throws {
            let file =
                config
                ?? (FileManager.default.fileExists(atPath: ModelOptions.systemConfiguration)
                    ? ModelOptions.systemConfiguration : nil)
            let remote: RemoteConfiguration
            do {
                remote = try RemoteConfiguration(localFile: file)
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            if let device {
                return try ConfigCommand.exchange(
                    .get, device: device, mqtt: mqtt, timeout: timeout, configuration: remote.effective)
            }
            if let note = remote.loadNote { StandardError.print("edgecensus: warning: \(note)") }
            print("local file: \(file ?? "none (built-in defaults)")")
            print("remote changes: \(remote.overridesFile) (version \(remote.version))")
            print(remote.stateDocument)
        }
    }

    struct SetKeys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change remote keys on a device through the broker and print its answer.",
            discussion: """
                Values are JSON when they parse as JSON (1, 0.5, true, "text"), else text; null puts \
                a key back to the device's local file value. The whole change is applied or none of it. \
                Exit 0: applied; 1: refused (the answer says why); 2: no answer.

                Examples:
                  edgecensus config set throttle.max_rate_hz=1 windows.k_anonymity=5 --device hall
                  edgecensus config set source.width=800 source.height=600 --device hall --mqtt broker.local:1883
                  edgecensus config set throttle.max_rate_hz=null --device hall --expect-version 4
                """)

        @Argument(help: ArgumentHelp("KEY=VALUE, with dotted keys.", valueName: "key=value"))
        var assignments: [String]

        @OptionGroup var broker: BrokerOptions

        @Option(
            name: .long, help: ArgumentHelp("Configuration file (YAML) for the broker settings.", valueName: "file"))
        var config: String?

        @Option(
            name: .long,
            help: "Refuse unless the device is at this configuration version (no lost update between operators).")
        var expectVersion: Int?

        func run() throws {
            var patch: JSONValue
            let configuration: AgentConfiguration
            do {
                patch = try RemoteConfigurationClient.patch(from: assignments)
                configuration = try config.map { try AgentConfiguration.load(file: $0) } ?? AgentConfiguration()
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            if let expectVersion { patch = patch.merging(patch: .object(["config_version": .int(expectVersion)])) }
            try broker.exchange(.set(patch), configuration: configuration)
        }
    }

    struct CheckRequest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-request",
            abstract: "Print what a device would answer to a config/set payload, changing nothing.",
            discussion: """
                The payload is checked as the device checks it (strict JSON, size, keys that may be \
                changed remotely, every check of the local file) against the configuration file and \
                the remote changes kept in its state directory. Nothing is saved. Exit 0: it would be \
                applied; 1: refused (the answer says why); 2: the configuration cannot be read.

                Examples:
                  edgecensus config check-request change.json
                  echo '{"throttle":{"max_rate_hz":1}}' | edgecensus config check-request - --config site.yaml
                """)

        @Argument(help: ArgumentHelp("The payload: a file, or - for standard input.", valueName: "file"))
        var request: String

        @Option(name: .long, help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
        var config: String?

        func run() throws {
            let file =
                config
                ?? (FileManager.default.fileExists(atPath: ModelOptions.systemConfiguration)
                    ? ModelOptions.systemConfiguration : nil)
            let remote: RemoteConfiguration
            let payload: [UInt8]
            do {
                remote = try RemoteConfiguration(localFile: file)
                payload = try Self.read(request, limit: RemoteConfiguration.maximumRequestBytes + 1)
            } catch {
                StandardError.print("edgecensus: \(error)")
                throw ExitCode(2)
            }
            switch remote.evaluate(payload, retained: false) {
            case .success(let change):
                print(remote.resultDocument(for: change))
            case .failure(let refusal):
                print(remote.resultDocument(for: refusal))
                StandardError.print("edgecensus: refused: \(refusal.reason)")
                throw ExitCode(1)
            }
        }

        /// The payload's bytes, at most `limit` (enough to know it is too large).
        static func read(_ path: String, limit: Int) throws -> [UInt8] {
            if path == "-" { return [UInt8](try FileHandle.standardInput.read(upToCount: limit) ?? Data()) }
            let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard descriptor >= 0 else { throw ValidationError("\(path): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                throw ValidationError("\(path): not a regular file")
            }
            var bytes = [UInt8](repeating: 0, count: limit)
            var count = 0
            while count < limit {
                let got = bytes.withUnsafeMutableBytes {
                    Foundation.read(descriptor, $0.baseAddress! + count, limit - count)
                }
                guard got > 0 else { break }
                count += got
            }
            return Array(bytes[..<count])
        }
    }
}
