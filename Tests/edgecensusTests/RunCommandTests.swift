import EdgeCensusTestSupport
import Foundation
import Testing

@Suite("edgecensus run and cameras", .tags(.slow), .serialized)
struct RunCommandTests {
    static func documents(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test("the bundled sample config counts the sample video: one JSON line per window")
    func sampleVideo() throws {
        let directory = try TemporaryDirectory()
        let config = directory.file("walkers.yaml")
        let text = try String(contentsOfFile: TestPaths.samples + "/walkers.yaml", encoding: .utf8)
            .replacingOccurrences(of: "etc/samples/walkers.mp4", with: TestPaths.samples + "/walkers.mp4")
            .replacingOccurrences(of: "/tmp/edgecensus-sample", with: directory.file("state"))
        try writeFile(config, Data(text.utf8))
        let result = try ProcessRunner.run(
            TestPaths.executable, ["run", "--models", TestPaths.models, "--config", config])
        #expect(result.status == 0, "\(result.standardError)")
        let windows = try Self.documents(result.standardOutput)
        #expect(windows.map { $0["people"] as? Int } == [1, 3, 2])
        #expect(
            windows.map { $0["window_start"] as? String } == [
                "2026-01-01T09:00:00Z", "2026-01-01T09:00:20Z", "2026-01-01T09:00:40Z",
            ])
        #expect(windows.last?["partial"] as? Bool == true)
        #expect(
            windows.allSatisfy {
                $0["device"] as? String == "sample-walkers" && $0["schema"] as? String == "edgecensus.counts/3"
            })
        #expect(result.standardError.contains("window 1: 1 people"))
    }

    @Test("SIGTERM flushes the partial window and exits 0")
    func sigterm() throws {
        let directory = try TemporaryDirectory()
        // Four-second windows and no motion gate: the first window on standard output shows
        // that frames are being analysed (on a busy machine the first pass can take seconds).
        // SIGTERM comes two seconds into a window, so the partial window has seen frames,
        // analysed or, while an analysis was still running, dropped.
        let config = directory.file("config.yaml")
        try writeFile(
            config,
            Data(
                """
                state: {directory: \(directory.file("state"))}
                device: {id: sigterm}
                windows: {length: 4}
                motion: {enabled: false}

                """.utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.executable)
        process.arguments = [
            "run", "--models", TestPaths.models, "--video", TestPaths.samples + "/walkers.mp4",
            "--realtime", "true", "--config", config,
        ]
        let output = directory.file("out"), errors = directory.file("err")
        try writeFile(output, Data())
        try writeFile(errors, Data())
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        func windowsSoFar() -> [[String: Any]] {
            (try? Self.documents((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")) ?? []
        }
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline, process.isRunning,
            !windowsSoFar().contains(where: { ($0["frames_analysed"] as? Int ?? 0) > 0 })
        {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let before = windowsSoFar().count
        try #require(
            before > 0,
            "no window with an analysed frame within 90 s: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")"
        )
        // Windows are aligned to the clock: wait for the middle of one.
        let phase = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 4)
        Thread.sleep(forTimeInterval: (2 - phase + 4).truncatingRemainder(dividingBy: 4))
        process.terminate()  // SIGTERM
        waitForExit(process, timeout: 60)
        #expect(
            !process.isRunning && process.terminationReason == .exit && process.terminationStatus == 0, "still running")
        let windows = windowsSoFar()
        let last = try #require(windows.last)
        #expect(windows.count > before, "the partial window was not written")
        #expect(last["partial"] as? Bool == true)
        // Windows are aligned to the clock: the first and the last are partial, the others whole.
        #expect(windows.dropFirst().dropLast().allSatisfy { $0["partial"] as? Bool == false })
        // What the partial window saw is in it: at least one frame, analysed or dropped.
        #expect((last["frames_analysed"] as? Int ?? 0) + (last["frames_dropped"] as? Int ?? 0) > 0)
    }

    @Test("FFmpeg is loaded for a video file, and a camera agent does without it")
    func ffmpegOnlyForVideo() throws {
        let directory = try TemporaryDirectory()
        func librariesWhileCounting(_ arguments: [String], config: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestPaths.executable)
            process.arguments = ["run", "--models", TestPaths.models, "--config", config] + arguments
            let errors = directory.file("err-\(arguments.count)")
            try writeFile(errors, Data())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            defer {
                process.terminate()
                waitForExit(process, timeout: 60)
            }
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline,
                !((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "").contains("counting from")
            {
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 1)
            // Read to the end: /proc files report no size, and a one-shot read stops short.
            let maps = try #require(FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps"))
            return String(decoding: try maps.readToEnd() ?? Data(), as: UTF8.self)
        }
        let video = try librariesWhileCounting(
            ["--video", TestPaths.samples + "/walkers.mp4", "--realtime", "true"],
            config: try Self.stateConfig(directory))
        #expect(video.contains("libavcodec.so") && video.contains("libavformat.so"))
        let cameraConfig = directory.file("camera.yaml")
        try writeFile(
            cameraConfig,
            Data(
                """
                source: {kind: camera, device: /dev/video-edgecensus-absent}
                state: {directory: \(directory.file("camera-state"))}

                """.utf8))
        let camera = try librariesWhileCounting([], config: cameraConfig)
        #expect(camera.contains("libopencv_dnn.so"))
        #expect(!camera.contains("libavcodec.so") && !camera.contains("libavformat.so"))
    }

    static func stateConfig(_ directory: TemporaryDirectory) throws -> String {
        let path = directory.file("config.yaml")
        try writeFile(path, Data("state: {directory: \(directory.file("state"))}\ndevice: {id: sigterm}\n".utf8))
        return path
    }

    @Test("cameras says plainly when there are none")
    func noCameras() throws {
        let result = try ProcessRunner.run(TestPaths.executable, ["cameras"])
        #expect(result.status == 0)
        if !FileManager.default.fileExists(atPath: "/dev/video0") {
            #expect(result.standardOutput.contains("No V4L2 cameras found"))
        }
    }
}
