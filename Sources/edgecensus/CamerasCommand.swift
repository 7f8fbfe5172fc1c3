import ArgumentParser
import EdgeCensusCapture
import EdgeCensusConfiguration
import EdgeCensusSupport
import EdgeCensusVision
import Foundation

struct CamerasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cameras",
        abstract: "List the V4L2 cameras, or check that one delivers frames.",
        subcommands: [CamerasListCommand.self, CamerasCheckCommand.self],
        defaultSubcommand: CamerasListCommand.self)
}

struct CamerasListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the V4L2 cameras with their formats, sizes and frame rates (the default).",
        discussion:
            "Use a stable /dev/v4l/by-id/... name as source.device: /dev/videoN numbers can change between boots.")

    func run() throws {
        let devices = V4L2Devices.list()
        guard !devices.isEmpty else {
            print(
                "No V4L2 cameras found: no /dev/video* device can be opened. Is a camera plugged in, and may this user open it (group 'video')?"
            )
            return
        }
        for device in devices {
            print(
                "\(device.path): \(device.card) (driver \(device.driver), \(device.bus))\(device.isCapture ? "" : " — not a capture device")"
            )
            for name in device.stableNames { print("  also \(name)") }
            for format in device.formats {
                print("  \(format.fourcc) \(format.description)\(format.emulated ? " (converted by libv4l2)" : "")")
                func rates(_ list: [Double]) -> String {
                    list.isEmpty ? "" : " @ " + list.map { String(format: "%g", $0) }.joined(separator: ", ") + " fps"
                }
                for size in format.sizes { print("    \(size.width)x\(size.height)" + rates(size.rates)) }
                if let (range, largest) = format.range {
                    let step =
                        range.widthStep == 1 && range.heightStep == 1
                        ? "any size" : "steps of \(range.widthStep)x\(range.heightStep)"
                    print(
                        "    \(range.minWidth)x\(range.minHeight) to \(range.maxWidth)x\(range.maxHeight), \(step)"
                            + (largest.isEmpty ? "" : ";" + rates(largest).dropFirst(2) + " at the largest"))
                }
            }
        }
    }
}

struct CamerasCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Capture a few frames from a camera: what it was asked for, what it gives, how fast.",
        discussion: """
            Opens the camera the way `run` does (source.* from the configuration file, \
            overridden by the options here), streams --frames frames through mmap buffers, \
            and prints the format, size and rate the device settled on and the rate measured. \
            Nothing is analysed and nothing is kept, unless --save-frame asks for the last \
            frame as an image file (a local debug aid: it shows what the camera sees).
            Exit status 0: all frames came; 1: the camera failed or fell short; 2: bad options.

            Examples:
              edgecensus cameras check
              edgecensus cameras check --device /dev/video2 --width 1280 --height 720 --format mjpeg
              edgecensus cameras check --frames 30 --save-frame /tmp/camera.png
            """)

    @Option(
        name: .long, help: ArgumentHelp("Configuration file whose source.* settings to start from.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The camera (overrides source.device).", valueName: "path"))
    var device: String?

    @Option(name: .long, help: "Frame width to ask for (overrides source.width).")
    var width: Int?

    @Option(name: .long, help: "Frame height to ask for (overrides source.height).")
    var height: Int?

    @Option(name: .long, help: "Frame rate to ask for (overrides source.fps).")
    var fps: Double?

    @Option(name: .long, help: ArgumentHelp("auto, mjpeg or yuyv (overrides source.format).", valueName: "format"))
    var format: String?

    @Option(name: .long, help: "How many frames to capture.")
    var frames = 10

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeLimit = 30.0

    @Option(
        name: .long, help: ArgumentHelp("Write the last frame to this image file (.png or .jpg).", valueName: "file"))
    var saveFrame: String?

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard timeLimit > 0 else { throw ValidationError("--time-limit must be positive") }
        if let format, V4L2Camera.Format(rawValue: format) == nil {
            throw ValidationError("--format '\(format)' is not auto, mjpeg or yuyv")
        }
    }

    func run() throws {
        let settings: V4L2Camera.Settings
        do {
            let file = ModelOptions.configurationFile(given: config)
            let source = try file.map { try AgentConfiguration.load(file: $0).source } ?? SourceConfiguration()
            settings = V4L2Camera.Settings(
                device: device ?? source.device, width: width ?? source.width,
                height: height ?? source.height, fps: fps ?? source.fps,
                format: format.flatMap(V4L2Camera.Format.init(rawValue:))
                    ?? V4L2Camera.Format(rawValue: source.format.rawValue) ?? .auto)
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
        let camera = try V4L2Camera(settings: settings)
        var last: Frame?
        let result = CaptureCheck.run(camera, frames: frames, timeLimit: timeLimit, onFrame: { last = $0 })
        let state = camera.state
        camera.close()
        let device = V4L2Devices.describe(path: settings.device)

        var saved: String?
        if let saveFrame, let last {
            do {
                try last.image.write(to: saveFrame)
                saved = saveFrame
            } catch {
                StandardError.print("edgecensus: cannot save the frame: \(error)")
            }
        }
        let report = CameraCheckReport(
            settings: settings, device: device, camera: camera, state: state, result: result,
            lastFrame: last.map { ($0.image.width, $0.image.height) }, saved: saved)
        print(json ? report.json : report.text)
        if result.frames < frames { throw ExitCode(1) }
    }
}

/// What `cameras check` prints.
struct CameraCheckReport {
    var settings: V4L2Camera.Settings
    var device: V4L2DeviceInfo?
    var camera: V4L2Camera
    /// The camera's state before it was closed.
    var state: V4L2Camera.State
    var result: CaptureCheck.Result
    var lastFrame: (width: Int, height: Int)?
    var saved: String?

    private var streaming: (width: Int, height: Int, fourcc: String, fps: Double)? {
        if case let .streaming(width, height, fourcc, fps) = state { return (width, height, fourcc, fps) }
        return nil
    }

    var text: String {
        var lines: [String] = []
        let name = device.map { "\($0.card) (driver \($0.driver))" } ?? "device"
        lines.append("\(settings.device): \(name)")
        lines.append(
            "  configured: \(settings.width)x\(settings.height) at \(Self.number(settings.fps)) fps, format \(settings.format.rawValue)"
        )
        if let asked = camera.requested {
            lines.append(
                "  asked for:  \(asked.fourcc) \(asked.width)x\(asked.height)"
                    + (asked.fps.map { " at \(Self.number($0)) fps" } ?? ""))
        }
        if let streaming {
            let adjusted =
                camera.requested.map { $0.width != streaming.width || $0.height != streaming.height } ?? false
            lines.append(
                "  streaming:  \(streaming.fourcc) \(streaming.width)x\(streaming.height) at \(Self.number(streaming.fps)) fps"
                    + (adjusted ? " (the device adjusted the size)" : ""))
        }
        var delivered = "  \(result.frames) frame\(result.frames == 1 ? "" : "s")"
        if let rate = result.measuredRate { delivered += " at \(String(format: "%.1f", rate)) fps measured" }
        if let first = result.firstFrameAfter { delivered += ", the first after \(String(format: "%.2f", first)) s" }
        if camera.skippedFrames > 0 { delivered += ", \(camera.skippedFrames) unreadable skipped" }
        lines.append(delivered)
        for problem in result.problems { lines.append("  problem: \(problem)") }
        if result.timedOut { lines.append("  gave up after the time limit") }
        if let saved { lines.append("  last frame saved to \(saved)") }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var document: [String: JSONValue] = [
            "device": JSONValue(settings.device),
            "configured": [
                "width": JSONValue(settings.width), "height": JSONValue(settings.height),
                "fps": JSONValue(settings.fps), "format": JSONValue(settings.format.rawValue),
            ],
            "frames": JSONValue(result.frames),
            "skipped_frames": JSONValue(camera.skippedFrames),
            "problems": JSONValue(result.problems),
            "timed_out": JSONValue(result.timedOut),
        ]
        if let device {
            document["card"] = JSONValue(device.card)
            document["driver"] = JSONValue(device.driver)
        }
        if let asked = camera.requested {
            document["requested"] = [
                "fourcc": JSONValue(asked.fourcc), "width": JSONValue(asked.width), "height": JSONValue(asked.height),
                "fps": JSONValue(asked.fps),
            ]
        }
        if let streaming {
            document["streaming"] = [
                "fourcc": JSONValue(streaming.fourcc), "width": JSONValue(streaming.width),
                "height": JSONValue(streaming.height), "fps": JSONValue(streaming.fps),
            ]
        }
        if let lastFrame {
            document["frame"] = ["width": JSONValue(lastFrame.width), "height": JSONValue(lastFrame.height)]
        }
        document["measured_fps"] = JSONValue(result.measuredRate)
        document["first_frame_seconds"] = JSONValue(result.firstFrameAfter)
        document["saved"] = JSONValue(saved)
        return JSONText.line(.object(document))
    }

    static func number(_ value: Double) -> String { String(format: "%g", value) }
}
