import EdgeCensusCapture
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("File frame sources")
struct FileFrameSourceTests {
    static let video = TestPaths.samples + "/walkers.mp4"

    @Test("the sample video gives its 290 frames at 5 fps, then ends")
    func video() throws {
        let source = try VideoFileSource(path: Self.video, realtime: false)
        #expect(source.framesPerSecond == 5)
        var count = 0, last: Frame?
        while let frame = try source.nextFrame() {
            count += 1
            last = frame
        }
        #expect(count == 290)
        #expect(last?.time == 289.0 / 5)
        #expect(last?.image.width == 640 && last?.image.height == 360)
        #expect(try source.nextFrame() == nil)
    }

    @Test("played in real time, frames arrive at the file's own rate")
    func realtime() throws {
        let source = try VideoFileSource(path: Self.video, realtime: true)
        let start = ContinuousClock.now
        for _ in 0..<6 { _ = try source.nextFrame() }
        let elapsed = (ContinuousClock.now - start).seconds
        #expect(elapsed >= 0.95, "6 frames at 5 fps take 1 s, took \(elapsed)")
    }

    @Test("a missing video and a file that is not a video are clear errors")
    func badVideos() throws {
        #expect(throws: CaptureError.notFound(path: "/nowhere.mp4")) {
            try VideoFileSource(path: "/nowhere.mp4", realtime: false)
        }
        let directory = try TemporaryDirectory()
        let text = directory.file("notes.mp4")
        try writeFile(text, Data("not a video".utf8))
        #expect(throws: CaptureError.self) { try VideoFileSource(path: text, realtime: false) }
    }

    @Test(
        "a video named as another container, or not named as one at all, still opens with every frame",
        arguments: ["walkers.avi", "walkers.mkv", "walkers.video"])
    func misnamedVideo(name: String) throws {
        let directory = try TemporaryDirectory()
        let copy = directory.file(name)
        try FileManager.default.copyItem(atPath: Self.video, toPath: copy)
        let source = try VideoFileSource(path: copy, realtime: false)
        var count = 0
        while try source.nextFrame() != nil { count += 1 }
        #expect(count == 290)
    }

    @Test(
        "an image folder gives its images in name order; a broken, a cut-short and an oversized file are each reported by name and skipped"
    )
    func folder() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.copyItem(
            atPath: TestPaths.samples + "/fairface_0152.jpg", toPath: directory.file("b.jpg"))
        try FileManager.default.copyItem(
            atPath: TestPaths.samples + "/fairface_0002.jpg", toPath: directory.file("a.jpg"))
        try writeFile(directory.file("c.jpg"), Data("broken".utf8))
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/fairface_0019.jpg"))
        try writeFile(directory.file("d.jpg"), jpeg.prefix(jpeg.count / 2))
        try FileManager.default.copyItem(atPath: TestPaths.samples + "/astronaut.png", toPath: directory.file("e.png"))
        try writeFile(directory.file("notes.txt"), Data("ignored".utf8))
        // 448x448 photos pass; the 512x512 one is over 0.25 megapixels.
        let source = try ImageFolderSource(folder: directory.path, interval: 2, maxPixels: 250_000)
        let first = try #require(try source.nextFrame())
        let second = try #require(try source.nextFrame())
        #expect(first.image.width == 448 && second.time == 2)
        for (name, reason) in [
            ("c.jpg", "neither a JPEG nor a PNG"), ("d.jpg", "cut short"),
            ("e.png", "512x512 pixels (0.3 megapixels), more than the 0.25 allowed"),
        ] {
            let error = thrownError(CaptureError.self) { try source.nextFrame() }
            #expect(
                "\(error.map { "\($0)" } ?? "")".contains(directory.file(name))
                    && "\(error.map { "\($0)" } ?? "")".contains(reason),
                "\(String(describing: error))")
        }
        #expect(try source.nextFrame() == nil)
        #expect(source.skipped.map { ($0.file as NSString).lastPathComponent } == ["c.jpg", "d.jpg", "e.png"])
    }
}

@Suite("V4L2 without a device")
struct V4L2Tests {
    @Test("an MJPEG frame (a JPEG) decodes to the picture it holds")
    func mjpeg() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/fairface_0152.jpg")))
        let image = try Image.decode(bytes)
        #expect(image.width == 448 && image.height == 448)
    }

    @Test("reopening backs off 1, 2, 4 … 30 s and starts again after a success")
    func backoff() {
        var backoff = ReconnectBackoff()
        #expect((0..<7).map { _ in backoff.failed() } == [1, 2, 4, 8, 16, 30, 30])
        backoff.succeeded()
        #expect(backoff.failed() == 1)
    }

    @Test("a missing camera is reported, retried later, and never crashes")
    func missingDevice() throws {
        let camera = try V4L2Camera(
            settings: .init(device: "/dev/video-none", width: 640, height: 480, fps: 15, format: .auto))
        #expect(throws: CaptureError.notFound(path: "/dev/video-none")) { try camera.nextFrame() }
        guard case .lost(let reason, let retry) = camera.state else {
            Issue.record("state \(camera.state)")
            return
        }
        #expect(reason.contains("/dev/video-none") && retry == 1)
        camera.close()
        #expect(try camera.nextFrame() == nil)
    }

    @Test("listing cameras on a machine without any gives an empty list")
    func noCameras() throws {
        let directory = try TemporaryDirectory()
        #expect(V4L2Devices.list(devDirectory: directory.path).isEmpty)
    }
}

@Suite("Format negotiation")
struct FormatNegotiationTests {
    typealias Offer = FormatNegotiation.Offer
    typealias Size = FormatNegotiation.Size

    /// A typical UVC webcam: YUYV up to 30 fps at small sizes only, MJPEG at all sizes.
    static let webcam: [Offer] = [
        Offer(
            fourcc: "YUYV",
            sizes: [Size(width: 640, height: 480, rates: [30, 15]), Size(width: 1280, height: 720, rates: [10, 5])]),
        Offer(
            fourcc: "MJPG",
            sizes: [
                Size(width: 640, height: 480, rates: [30, 15]), Size(width: 1280, height: 720, rates: [30, 15]),
                Size(width: 1920, height: 1080, rates: [30]),
            ]),
        Offer(fourcc: "BGR3", emulated: true, sizes: [Size(width: 640, height: 480, rates: [30])]),
    ]

    @Test("automatic: YUYV at 640x480, MJPEG above it")
    func automatic() throws {
        #expect(
            try FormatNegotiation.choose(from: Self.webcam, width: 640, height: 480, fps: 15, preferred: nil)
                == .init(fourcc: "YUYV", width: 640, height: 480, fps: 15))
        #expect(
            try FormatNegotiation.choose(from: Self.webcam, width: 1280, height: 720, fps: 15, preferred: nil)
                == .init(fourcc: "MJPG", width: 1280, height: 720, fps: 15))
    }

    @Test("a size the camera does not have becomes the nearest one; a rate, the slowest at or above it")
    func nearest() throws {
        let choice = try FormatNegotiation.choose(
            from: Self.webcam, width: 1600, height: 900, fps: 12, preferred: "MJPG")
        #expect(choice == .init(fourcc: "MJPG", width: 1280, height: 720, fps: 15))
        let fast = try FormatNegotiation.choose(from: Self.webcam, width: 1280, height: 720, fps: 60, preferred: "YUYV")
        #expect(fast.fps == 10)  // the fastest there is
    }

    @Test("a device giving a range of sizes is asked for the configured size, fitted to the range's steps")
    func range() throws {
        let capture = [
            Offer(
                fourcc: "YUYV", sizes: [],
                range: .init(
                    minWidth: 16, maxWidth: 1920, widthStep: 2,
                    minHeight: 16, maxHeight: 1080, heightStep: 2))
        ]
        #expect(
            try FormatNegotiation.choose(from: capture, width: 643, height: 479, fps: 15, preferred: nil)
                == .init(fourcc: "YUYV", width: 644, height: 480, fps: nil))
        #expect(
            try FormatNegotiation.choose(from: capture, width: 4000, height: 8, fps: 15, preferred: nil)
                == .init(fourcc: "YUYV", width: 1920, height: 16, fps: nil))
    }

    @Test("a device that lists no sizes is asked for the configured one (the driver adjusts it)")
    func unlisted() throws {
        let tuner = [Offer(fourcc: "YUYV", sizes: [])]
        #expect(
            try FormatNegotiation.choose(from: tuner, width: 640, height: 480, fps: 15, preferred: nil)
                == .init(fourcc: "YUYV", width: 640, height: 480, fps: nil))
    }

    @Test(
        "a camera with neither MJPEG nor YUYV falls back to libv4l2's BGR conversion, and a forced format it lacks is refused"
    )
    func fallback() throws {
        let odd = [
            Offer(fourcc: "NV12", sizes: [Size(width: 640, height: 480, rates: [30])]),
            Offer(fourcc: "BGR3", emulated: true, sizes: [Size(width: 640, height: 480, rates: [30])]),
        ]
        #expect(
            try FormatNegotiation.choose(from: odd, width: 640, height: 480, fps: 15, preferred: nil).fourcc == "BGR3")
        let error = thrownError(CaptureError.self) {
            try FormatNegotiation.choose(from: odd, width: 640, height: 480, fps: 15, preferred: "MJPG")
        }
        #expect(error?.description.contains("NV12") == true)
    }
}
