import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("Image decoding and operations")
struct ImageTests {
    @Test("a real PNG decodes to BGR pixels of the right size")
    func decodesSample() throws {
        let image = try Image.load(contentsOf: TestPaths.samples + "/astronaut.png")
        #expect(image.width == 512 && image.height == 512 && image.channels == 3)
    }

    @Test("a missing file is reported as not found")
    func missingFile() {
        #expect(throws: VisionError.fileNotFound(path: "/nonexistent/photo.jpg", role: "image")) {
            try Image.load(contentsOf: "/nonexistent/photo.jpg")
        }
    }

    @Test("a directory is not an image")
    func directory() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: VisionError.notAnImage(path: directory.path, reason: "a folder, not a file")) {
            try Image.load(contentsOf: directory.path)
        }
    }

    @Test("a text file, an empty file and a truncated JPEG are not images", arguments: ["text", "empty", "truncated"])
    func notAnImage(kind: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("\(kind).jpg")
        let contents: Data
        switch kind {
        case "text": contents = Data("this is not a picture\n".utf8)
        case "empty": contents = Data()
        default:
            contents = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/fairface_0019.jpg")).prefix(200)
        }
        try writeFile(path, contents)
        let error = thrownError(VisionError.self) { try Image.load(contentsOf: path) }
        guard case .notAnImage(let reported, _) = error else {
            Issue.record("expected notAnImage, got \(String(describing: error))")
            return
        }
        #expect(reported == path)
    }

    @Test("an unreadable file says permission denied", .enabled(if: getuid() != 0, "root reads every file"))
    func unreadable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("locked.png")
        try FileManager.default.copyItem(atPath: TestPaths.samples + "/astronaut.png", toPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
        #expect(throws: VisionError.fileUnreadable(path: path, reason: "permission denied")) {
            try Image.load(contentsOf: path)
        }
    }

    @Test("pixels, padding and flipping keep their places")
    func operations() throws {
        // 2x1 image: left pixel pure blue (BGR 255,0,0), right pixel pure red.
        let image = try Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
        #expect(image.pixel(x: 0, y: 0) == [255, 0, 0])
        let flipped = try image.flippedHorizontally()
        #expect(flipped.pixel(x: 0, y: 0) == [0, 0, 255])
        let padded = try image.padded(top: 1, bottom: 0, left: 1, right: 0, replicatingEdges: true)
        #expect(padded.width == 3 && padded.height == 2)
        #expect(padded.pixel(x: 0, y: 0) == [255, 0, 0])
        #expect(padded.pixel(x: 2, y: 1) == [0, 0, 255])
    }

    @Test(
        "YUYV converts to the right colours (BT.601 limited range)",
        arguments: [
            // Y, U, V → B, G, R
            ((UInt8(16), UInt8(128), UInt8(128)), (UInt8(0), UInt8(0), UInt8(0))),
            ((235, 128, 128), (255, 255, 255)),
            ((81, 90, 240), (0, 0, 255)),  // red
            ((145, 54, 34), (0, 255, 0)),  // green
            ((41, 240, 110), (255, 0, 0)),  // blue
        ])
    func yuyv(yuv: (UInt8, UInt8, UInt8), bgr: (UInt8, UInt8, UInt8)) throws {
        let bytes: [UInt8] = [yuv.0, yuv.1, yuv.0, yuv.2, yuv.0, yuv.1, yuv.0, yuv.2]  // 4x1 pixels
        let image = try bytes.withUnsafeBytes { try Image.fromYUYV($0, width: 4, height: 1, bytesPerLine: 8) }
        for x in 0..<4 {
            let out = image.pixel(x: x, y: 0)
            #expect(abs(Int(out[0]) - Int(bgr.0)) <= 2)
            #expect(abs(Int(out[1]) - Int(bgr.1)) <= 2)
            #expect(abs(Int(out[2]) - Int(bgr.2)) <= 2)
        }
    }

    @Test("camera buffers with padded rows convert row by row, and a buffer too short is refused")
    func paddedRows() throws {
        // 2x2 YUYV with 4 bytes of padding per row: white row, black row.
        let yuyv: [UInt8] = [
            235, 128, 235, 128, 0, 0, 0, 0,
            16, 128, 16, 128, 0, 0, 0, 0,
        ]
        let image = try yuyv.withUnsafeBytes { try Image.fromYUYV($0, width: 2, height: 2, bytesPerLine: 8) }
        #expect(image.pixel(x: 1, y: 0) == [255, 255, 255] && image.pixel(x: 1, y: 1) == [0, 0, 0])
        let bgr: [UInt8] = [1, 2, 3, 9, 4, 5, 6, 9]
        let copied = try bgr.withUnsafeBytes {
            try Image.copying($0, width: 1, height: 2, channels: 3, bytesPerLine: 4)
        }
        #expect(copied.pixel(x: 0, y: 1) == [4, 5, 6])
        #expect(throws: VisionError.self) {
            try yuyv.withUnsafeBytes {
                try Image.fromYUYV(UnsafeRawBufferPointer(rebasing: $0[0..<11]), width: 2, height: 2, bytesPerLine: 8)
            }
        }
    }

    @Test("a blob subtracts the mean, scales, and orders channels")
    func blob() throws {
        let image = try Image(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])  // B, G, R
        let rgb = Blob(image: image, order: .rgb, mean: [1, 2, 3], scale: 0.5)
        #expect(rgb.values == [14.5, 9, 3.5])
        let bgr = Blob(image: image, order: .bgr, mean: [0, 0, 0], scale: 1)
        #expect(bgr.values == [10, 20, 30])
    }
}

@Suite("Hostile images: refused by name, before their pixels cost memory")
struct HostileImageTests {
    /// A PNG whose header declares `width` x `height`, with a little real data (a few hundred bytes).
    static func declaredPNG(width: UInt32, height: UInt32) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + typed
                + withUnsafeBytes(of: crc32(typed).bigEndian, Array.init)
        }
        let header =
            withUnsafeBytes(of: width.bigEndian, Array.init) + withUnsafeBytes(of: height.bigEndian, Array.init) + [
                8, 2, 0, 0, 0,
            ]
        // A stored (uncompressed) zlib block of a few zero rows' bytes is enough for the header to be read.
        let stored: [UInt8] = [0x78, 0x01, 0x01, 0x05, 0x00, 0xFA, 0xFF, 0, 0, 0, 0, 0, 0x00, 0x05, 0x00, 0x01]
        return Data(
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", stored)
                + chunk("IEND", []))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test("a PNG declaring 20000x20000 pixels is refused before decoding, naming the file and the limit")
    func hugePNG() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("huge.png")
        try writeFile(path, Self.declaredPNG(width: 20_000, height: 20_000))
        let error = thrownError(VisionError.self) { try Image.load(contentsOf: path) }
        #expect(
            error?.description.contains(path) == true && error?.description.contains("20000x20000") == true
                && error?.description.contains("detection.max_megapixels") == true, "\(String(describing: error))")
    }

    @Test(
        "a JPEG cut short anywhere past its header is refused as damaged, never scored as a grey picture",
        arguments: [0.01, 0.05, 0.25, 0.5, 0.9, 0.99])
    func cutShortJPEG(fraction: Double) throws {
        let directory = try TemporaryDirectory()
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/fairface_0019.jpg"))
        let path = directory.file("cut.jpg")
        try writeFile(path, jpeg.prefix(Int(Double(jpeg.count) * fraction)))
        let error = thrownError(VisionError.self) { try Image.load(contentsOf: path) }
        #expect(error?.description.contains(path) == true, "\(String(describing: error))")
    }

    @Test("/dev/null and a FIFO are not regular files: refused at once, without blocking")
    func specialFiles() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.file("pipe.jpg")
        #expect(mkfifo(fifo, 0o644) == 0)
        for path in ["/dev/null", fifo] {
            let error = thrownError(VisionError.self) { try Image.load(contentsOf: path) }
            #expect(error == .notAnImage(path: path, reason: "not a regular file (a device, pipe or socket)"))
        }
    }
}
