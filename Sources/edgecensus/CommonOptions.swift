import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusRuntime
import EdgeCensusVision
import Foundation

/// Options every command that runs the models shares.
struct ModelOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (YAML).",
            discussion: "Default: /etc/edgecensus/edgecensus.yaml when it exists, else built-in defaults.",
            valueName: "file"))
    var config: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Models directory (holding SHA256SUMS); overrides models.directory.", valueName: "dir"))
    var models: String?

    static let systemConfiguration = "/etc/edgecensus/edgecensus.yaml"

    /// The local configuration file: `--config`, else the system one if it exists.
    var configurationFile: String? { Self.configurationFile(given: config) }

    /// The file given, else the system configuration if it exists, else none (built-in defaults).
    static func configurationFile(given: String?) -> String? {
        if let given { return given }
        return FileManager.default.fileExists(atPath: systemConfiguration) ? systemConfiguration : nil
    }

    func loadConfiguration() throws -> AgentConfiguration {
        guard let file = configurationFile else { return AgentConfiguration() }
        return try AgentConfiguration.load(file: file)
    }

    /// The configuration and its pipeline, or a one-line error and exit status 2.
    /// `forPhotos` false: for camera or video frames (see `PipelineUse`).
    func loadPipeline(forPhotos: Bool = true) throws -> (AgentConfiguration, FacePipeline) {
        do {
            let configuration = try loadConfiguration()
            return (
                configuration,
                try configuration.makePipeline(modelsOverride: models, for: forPhotos ? .photos : .frames)
            )
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
    }
}

enum StandardError {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `host` or `host:port`, as given to `--mqtt`.
struct BrokerAddress {
    var host: String
    var port: Int

    init(_ text: String, defaultPort: Int) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
            let port = parts.count == 2 ? Int(parts[1]) : defaultPort, (1...65535).contains(port)
        else {
            throw ValidationError("--mqtt '\(text)' is not host or host:port (such as localhost or 192.168.1.10:1883)")
        }
        host = String(parts[0])
        self.port = port
    }
}

extension MQTTConfiguration {
    /// This configuration's broker, or the one `--mqtt` names; an error when there is none.
    func overridden(by mqtt: String?) throws -> MQTTConfiguration {
        var configuration = self
        if let mqtt {
            let broker = try BrokerAddress(mqtt, defaultPort: port)
            configuration.host = broker.host
            configuration.port = broker.port
        }
        guard configuration.isEnabled else {
            throw ValidationError("no broker: give --mqtt HOST[:PORT] or set mqtt.host in the configuration file")
        }
        return configuration
    }
}

/// Runs async work from a synchronous command and waits for its result.
func blockingWait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.result!
}

/// A result handed from a task to a waiting thread: written before the semaphore
/// is signalled, read after it is waited on.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
