import EdgeCensusCapture
import EdgeCensusMotion
import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

/// The motion check on synthetic frames (a drawn room with seeded sensor noise) and
/// on the day-like sample video (etc/samples/day.mp4, day.json).
@Suite("The motion check")
struct MotionDetectorTests {
    static let width = 320, height = 180, fps = 10.0

    /// A drawn room (BGR): a wall lit from above, a floor, a door and a poster.
    static let room: [Double] = {
        var pixels = [Double](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                var colour: [Double] =
                    y < 145 ? [200 - Double(y) / 3, 205 - Double(y) / 4, 210 - Double(y) / 5] : [90, 100, 110]
                if x >= 20 && x < 70 && y >= 30 && y < 145 { colour = [70, 90, 120] }
                if x >= 235 && x < 300 && y >= 20 && y < 65 { colour = [160, 120, 90] }
                pixels.replaceSubrange((y * width + x) * 3..<(y * width + x) * 3 + 3, with: colour)
            }
        }
        return pixels
    }()

    /// One frame: the room, lit with `gain` and `offset` (on the columns below `lampUntilX`
    /// also `lamp` grey levels more), with an optional skin-coloured square (a head) at
    /// `head`, and noise of about `sigma` grey levels (a sum of four uniform draws).
    static func frame(
        gain: Double = 1, offset: Double = 0, lamp: Double = 0, lampUntilX: Int = 0, head: (x: Int, y: Int)? = nil,
        side: Int = 35, sigma: Double = 3, using generator: inout SplitMix64
    ) throws -> Image {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let scale = sigma / 147.8
        for y in 0..<height {
            for x in 0..<width {
                let inHead = head.map { x >= $0.x && x < $0.x + side && y >= $0.y && y < $0.y + side } ?? false
                let light = offset + (x < lampUntilX ? lamp : 0)
                let bits = generator.next()
                for channel in 0..<3 {
                    let value = inHead ? [90.0, 120, 200][channel] : room[(y * width + x) * 3 + channel]
                    let shift = UInt64(channel * 16)
                    let noise =
                        Double(
                            Int((bits >> shift) & 0xFF) + Int((bits >> (shift + 8)) & 0xFF)
                                + Int((bits >> (shift + 48 - UInt64(channel * 8))) & 0xFF) + Int((bits >> 56) & 0xFF)
                                - 510) * scale
                    pixels[(y * width + x) * 3 + channel] = UInt8(
                        max(0, min(255, (value * gain + light + noise).rounded())))
                }
            }
        }
        return try Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Frames at 10 per second: the observations, from the second frame on.
    static func observe(
        _ frames: Int, detector: MotionDetector = MotionDetector(settings: MotionSettings()),
        make: (Int, inout SplitMix64) throws -> Image
    ) throws -> [MotionObservation] {
        var generator = SplitMix64(seed: 28)
        var seen: [MotionObservation] = []
        for index in 0..<frames {
            seen.append(try detector.observe(try make(index, &generator), at: Double(index) / fps))
        }
        return seen
    }

    @Test("the first frame starts the background and counts as motion, so the detector looks once")
    func firstFrame() throws {
        let seen = try Self.observe(2) { _, generator in try Self.frame(using: &generator) }
        #expect(seen[0].relearned && seen[0].isMotion)
        #expect(!seen[1].relearned && !seen[1].isMotion)
    }

    @Test("a static scene with sensor noise is never motion")
    func staticNoise() throws {
        let seen = try Self.observe(60) { _, generator in try Self.frame(sigma: 6, using: &generator) }
        #expect(seen.dropFirst().allSatisfy { !$0.isMotion }, "\(seen.map(\.changedShare))")
        #expect(seen.dropFirst().map(\.changedShare).max()! < 0.0005)
    }

    @Test("a brightness or exposure step over the whole picture, and flicker, are not motion")
    func globalLightChanges() throws {
        let seen = try Self.observe(60) { index, generator in
            let flicker = 2 * sin(Double(index) * 0.9)
            let step: (gain: Double, offset: Double) = index < 20 ? (1, 0) : index < 40 ? (1.15, 18) : (0.9, 4)
            return try Self.frame(gain: step.gain, offset: step.offset + flicker, using: &generator)
        }
        #expect(seen.dropFirst().allSatisfy { !$0.isMotion }, "\(seen.map(\.changedShare))")
        #expect(seen[20].brightnessShift > 10)
    }

    @Test("a lamp lighting one side of the picture wakes the detector for at most 2 s")
    func lampOnOneSide() throws {
        let seen = try Self.observe(80) { index, generator in
            try Self.frame(lamp: index >= 20 ? 70 : 0, lampUntilX: 128, using: &generator)
        }
        let woken = seen[20...].filter(\.isMotion).count
        #expect(woken >= 1, "the lamp is a change the check sees")
        #expect(Double(woken) / Self.fps <= 2, "woken \(woken) frames at 10 frames/s")
        #expect(seen[40...].allSatisfy { !$0.isMotion })
    }

    @Test("a head-sized patch moving across is motion in every frame, and the region covers it")
    func movingHead() throws {
        let seen = try Self.observe(30) { index, generator in
            try Self.frame(head: index < 5 ? nil : (x: 20 + 10 * (index - 5), y: 75), using: &generator)
        }
        for index in 6..<30 {
            #expect(seen[index].isMotion, "frame \(index)")
            let head = (x: 20 + 10 * (index - 5), y: 75)
            let region = try #require(seen[index].region)
            #expect(
                region.x <= head.x + 5 && region.x + region.width >= head.x + 30
                    && region.y <= head.y + 5 && region.y + region.height >= head.y + 30, "frame \(index): \(region)")
            #expect(region.width < 150, "the region is the change, not the picture: \(region)")
        }
        #expect(seen[1..<5].allSatisfy { !$0.isMotion })
    }

    @Test("a change smaller than motion.min_area_percent is not motion, and a higher threshold is less sensitive")
    func settingsApply() throws {
        func run(_ settings: MotionSettings, side: Int) throws -> Int {
            try Self.observe(20, detector: MotionDetector(settings: settings)) { index, generator in
                try Self.frame(head: index < 5 ? nil : (x: 80 + 8 * (index - 5), y: 75), side: side, using: &generator)
            }.dropFirst().filter(\.isMotion).count
        }
        var defaults = MotionSettings()
        #expect(try run(defaults, side: 14) > 10)
        defaults.minAreaPercent = 5
        #expect(try run(defaults, side: 14) == 0, "a 14-pixel patch covers well under 5 % of the picture")
        var dull = MotionSettings()
        dull.threshold = 200
        #expect(try run(dull, side: 35) == 0, "no grey level changes by 200")
    }

    @Test("a new frame size starts the background again")
    func newFrameSize() throws {
        var generator = SplitMix64(seed: 1)
        let detector = MotionDetector(settings: MotionSettings())
        _ = try detector.observe(try Self.frame(using: &generator), at: 0)
        _ = try detector.observe(try Self.frame(using: &generator), at: 0.1)
        let smaller = try Image(
            width: 160, height: 120, channels: 3, pixels: [UInt8](repeating: 128, count: 160 * 120 * 3))
        let seen = try detector.observe(smaller, at: 0.2)
        #expect(seen.relearned && seen.isMotion)
    }

    struct DayTruth: Decodable {
        struct Person: Decodable { var enters: Double; var leaves: Double }
        struct Step: Decodable { var at: Double }
        var people: [Person]
        var lighting_steps: [Step]
        var lamp: Step
    }

    @Test("on the day-like video, motion is seen while people pass, and at most 2 s after each lighting change")
    func dayVideo() throws {
        let truth = try JSONDecoder().decode(
            DayTruth.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.samples + "/day.json")))
        let source = try VideoFileSource(path: TestPaths.samples + "/day.mp4", realtime: false)
        defer { source.close() }
        let detector = MotionDetector(settings: MotionSettings())
        var woken: [Double] = []
        var frames = 0
        while let frame = try source.nextFrame() {
            frames += 1
            if try detector.observe(frame.image, at: frame.time).isMotion, frame.time > 0 { woken.append(frame.time) }
        }
        #expect(frames == 1800)
        // Someone walking in is seen at once.
        for person in truth.people {
            #expect(
                woken.contains { $0 >= person.enters && $0 < person.enters + 1.5 }, "entering at \(person.enters) s")
        }
        // Without a person in view (or just gone: the background still holds where they
        // stood), motion is a lighting change, and lasts at most 2 s.
        let withoutPeople = woken.filter { time in !truth.people.contains { time >= $0.enters && time <= $0.leaves + 4 }
        }
        let changes = truth.lighting_steps.map(\.at) + [truth.lamp.at]
        for time in withoutPeople {
            #expect(changes.contains { time >= $0 && time < $0 + 2 }, "motion at \(time) s with nobody in view")
        }
        // A static, noisy room costs only the check: no wake-up at all in the empty stretches.
        #expect(Double(withoutPeople.count) / 5 <= 2 * Double(changes.count))
    }
}
