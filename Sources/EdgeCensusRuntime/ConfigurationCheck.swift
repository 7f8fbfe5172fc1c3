public import EdgeCensusConfiguration
import EdgeCensusStorage
import EdgeCensusTelemetry
import Foundation

/// What `config validate` checks: the file with every check `load` makes, every
/// problem at once with its line, and then what `run` would refuse at start: the
/// models (loaded, checksums verified), the video file or image folder, the MQTT
/// password file and TLS files. A camera that is not plugged in is a note, not a
/// problem: the agent waits for it.
public struct ConfigurationCheck: Sendable {
    public var configuration: AgentConfiguration?
    public var problems: [ConfigurationError]
    public var notes: [String]

    public var isValid: Bool { problems.isEmpty }

    /// `loadModels`: false skips loading the networks (the file checks still run).
    public static func run(file: String, modelsOverride: String? = nil, loadModels: Bool = true) -> ConfigurationCheck {
        let problems = AgentConfiguration.problems(file: file)
        guard problems.isEmpty, let read = try? ConfigurationFile(path: file) else {
            return ConfigurationCheck(configuration: nil, problems: problems, notes: [])
        }
        let configuration = read.configuration
        var check = ConfigurationCheck(configuration: configuration, problems: [], notes: [])
        func problem(_ key: String, _ text: String) {
            check.problems.append(ConfigurationError(key: key, problem: text, file: file, line: read.line(of: key)))
        }
        if loadModels {
            do {
                _ = try configuration.makePipeline(modelsOverride: modelsOverride, for: .frames)
            } catch let error as ConfigurationError {
                // A classifier the file describes incompletely: blamed on its own key, not the models folder.
                check.problems.append(
                    ConfigurationError(
                        error.kind, key: error.key, problem: error.problem, file: file, line: read.line(of: error.key)))
            } catch {
                problem("models.directory", "the models cannot be loaded: \(error)")
            }
        }
        let source = configuration.source
        switch source.kind {
        case .video:
            if let trouble = Self.fileProblem(source.path) {
                problem("source.path", "the video '\(source.path)' \(trouble)")
            }
        case .images:
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: source.path, isDirectory: &isFolder) || !isFolder.boolValue {
                problem("source.path", "the image folder '\(source.path)' does not exist")
            }
        case .camera:
            if !FileManager.default.fileExists(atPath: source.device) {
                check.notes.append(
                    "source.device \(source.device) does not exist now; the agent waits for it and opens it when it appears"
                )
            }
        }
        let mqtt = configuration.mqtt
        if mqtt.isEnabled {
            if let path = mqtt.passwordFile {
                do {
                    let text = try BoundedTextFile.read(path, limit: 4096)
                    if text.split(whereSeparator: \.isNewline).first?.isEmpty ?? true {
                        problem("mqtt.password_file", "'\(path)' holds no password on its first line")
                    }
                } catch {
                    problem("mqtt.password_file", "'\(path)': \(error)")
                }
            }
            if let tls = mqtt.tls {
                for (key, path) in [
                    ("mqtt.tls.ca_file", tls.caFile), ("mqtt.tls.cert_file", tls.certificateFile),
                    ("mqtt.tls.key_file", tls.keyFile),
                ] {
                    if let path, let trouble = Self.fileProblem(path) { problem(key, "'\(path)' \(trouble)") }
                }
            }
        }
        return check
    }

    /// Why a file cannot be read as `run` would read it, or nil when it can.
    static func fileProblem(_ path: String) -> String? {
        guard !path.isEmpty else { return "is not named (an empty path)" }
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: return "does not exist"
            case EACCES, EPERM: return "cannot be read: permission denied"
            case ELOOP: return "is a loop of symbolic links"
            default: return "cannot be read: \(String(cString: strerror(errno)))"
            }
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            return "is not a regular file"
        }
        return nil
    }
}
