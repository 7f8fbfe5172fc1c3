import Foundation

/// Runs a command under `strace` and lists every file it created, wrote, renamed,
/// linked or truncated, and every directory it made: the proof that a run leaves
/// nothing on disk but what it is meant to.
public enum FileWriteAudit {
    public static let strace = "/usr/bin/strace"

    public struct Audit: Sendable {
        public var result: ProcessResult
        /// Absolute paths, in the order the calls were made (repeats kept once).
        public var written: [String]
    }

    public static func run(_ executable: String, _ arguments: [String]) throws -> Audit {
        guard FileManager.default.isExecutableFile(atPath: strace) else {
            throw MissingTool(
                description: "\(strace) is not installed: run the setup command in README.md (apt-get install strace)")
        }
        let scratch = try TemporaryDirectory()
        let trace = scratch.file("trace")
        let calls = "openat,open,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mkdir,mkdirat,truncate"
        let result = try ProcessRunner.run(
            strace, ["-f", "-qq", "-e", "trace=\(calls)", "-o", trace, executable] + arguments)
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        return Audit(
            result: result, written: writes(inTrace: text, directory: FileManager.default.currentDirectoryPath))
    }

    /// The paths that successful writing calls in an strace log touched.
    static func writes(inTrace text: String, directory: String) -> [String] {
        var seen: [String] = []
        for line in text.split(separator: "\n") {
            // "1234 openat(AT_FDCWD, \"/x\", O_WRONLY|O_CREAT, 0644) = 3"; failed calls end "= -1 ENOENT (...)".
            guard let open = line.firstIndex(of: "("), let result = line.range(of: ") = ", options: .backwards),
                !line[result.upperBound...].hasPrefix("-")
            else { continue }
            let call = line[..<open].split(separator: " ").last.map(String.init) ?? ""
            let arguments = String(line[line.index(after: open)..<result.lowerBound])
            let paths = quoted(arguments)
            let touched: [String]
            switch call {
            case "open", "openat":
                let flags = arguments.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let writes = flags.contains {
                    $0.contains("O_WRONLY") || $0.contains("O_RDWR") || $0.contains("O_CREAT") || $0.contains("O_TRUNC")
                }
                touched = writes ? Array(paths.prefix(1)) : []
            case "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat": touched = paths
            default: touched = Array(paths.prefix(1))
            }
            for path in touched {
                let absolute = path.hasPrefix("/") ? path : directory + "/" + path
                if !seen.contains(absolute) { seen.append(absolute) }
            }
        }
        return seen
    }

    /// The double-quoted strings in an strace argument list.
    static func quoted(_ text: String) -> [String] {
        var strings: [String] = [], current = "", inside = false, escaped = false
        for character in text {
            if inside {
                if escaped {
                    current.append(character); escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    strings.append(current); current = ""; inside = false
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                inside = true
            }
        }
        return strings
    }

    public struct MissingTool: Error, CustomStringConvertible {
        public var description: String
    }
}
