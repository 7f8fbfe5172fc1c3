import Foundation
import Synchronization

/// The qemu guest with real V4L2 drivers (vivid, v4l2loopback) that
/// `Tests/Guest/edgecensus-guest.sh` boots: the tests run `edgecensus` in it.
public enum GuestMachine {
    public static let harness = TestPaths.repository + "/Tests/Guest/edgecensus-guest.sh"
    public static let mjpegFeeder = TestPaths.repository + "/Tests/Guest/feed-mjpeg.py"

    /// What `run` gives back.
    public struct Run: Sendable {
        /// The guest command's exit status (124: the guest timed out; 125: it failed to boot).
        public var status: Int32
        /// The command's output, then the harness's own lines.
        public var output: String
        public var seconds: Double
    }

    /// Whether this machine can run the guest (with the v4l2loopback module when
    /// `loopback`). Prepares it once per test process (the kernel download, the
    /// initramfs, the module build) and prints why not when it cannot; a harness
    /// that fails for another reason counts as able, so that its tests fail loudly.
    public static func canRun(loopback: Bool) async -> Bool {
        await preparation(loopback: loopback).value
    }

    private static let preparations = Mutex<[Bool: Task<Bool, Never>]>([:])

    private static func preparation(loopback: Bool) -> Task<Bool, Never> {
        preparations.withLock { tasks in
            if let task = tasks[loopback] { return task }
            let task = Task<Bool, Never> {
                let result = await runInBackground(harness, ["prepare"] + (loopback ? ["--loopback"] : []))
                switch result.status {
                case 0:
                    return true
                case 77:
                    FileHandle.standardError.write(Data("V4L2 guest tests skipped: \(result.output)".utf8))
                    return false
                default:
                    FileHandle.standardError.write(
                        Data("edgecensus-guest.sh prepare failed (status \(result.status)):\n\(result.output)".utf8))
                    return true
                }
            }
            tasks[loopback] = task
            return task
        }
    }

    /// Boots the guest, runs `script` (bash) in it from the repository, and returns
    /// when the guest has powered off. `share` is the folder the guest may write.
    /// `vivid`: the vivid module's parameters (nil: one webcam-like device).
    public static func run(
        script: String, share: TemporaryDirectory, vivid: String? = nil, loopback: String? = nil,
        timeout: Double = 400
    ) async throws -> Run {
        let scriptPath = share.file("guest-command.sh")
        try writeFile(scriptPath, Data(("set -u\n" + Self.helpers + script).utf8))
        var arguments = ["run", "--share", share.path, "--timeout", String(Int(timeout))]
        if let vivid { arguments += ["--vivid", vivid] }
        if let loopback { arguments += ["--loopback", loopback] }
        arguments += ["--", "/bin/bash", scriptPath]
        let started = Date()
        let result = await runInBackground(harness, arguments, timeout: timeout + 60)
        return Run(status: result.status, output: result.output, seconds: Date().timeIntervalSince(started))
    }

    /// Shell functions every guest script has: `wait_for SECONDS COMMAND...` runs the
    /// command each second until it succeeds (status 0) or the time is up (status 1).
    static let helpers = """
        wait_for() {
          local limit=$(( $(date +%s) + $1 )); shift
          until "$@"; do [ "$(date +%s)" -lt "$limit" ] || return 1; sleep 1; done
        }
        edgecensus=\(TestPaths.executable.shellQuoted)
        cd \(TestPaths.repository.shellQuoted)

        """

    /// Runs a command on a GCD thread (the guest takes minutes: it must not hold one
    /// of the few threads Swift's cooperative pool has), output and errors together.
    private static func runInBackground(
        _ executable: String, _ arguments: [String],
        timeout: Double = 600
    ) async -> (status: Int32, output: String) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let result = try ProcessRunner.run(
                        executable, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
                        timeout: timeout)
                    continuation.resume(returning: (result.status, result.standardOutput + result.standardError))
                } catch {
                    continuation.resume(returning: (125, "cannot start \(executable): \(error)"))
                }
            }
        }
    }
}

extension String {
    /// The string as one single-quoted shell word.
    public var shellQuoted: String { "'" + replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
