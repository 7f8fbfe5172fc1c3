import EdgeCensusBuffer
import EdgeCensusTestSupport
import Foundation
import Testing

/// Hostile inputs, one campaign per input class, against the built binary: every
/// case in a child process under a 512 MiB address space and a time limit (see
/// `FuzzCampaign`). None may crash, hang or go over; a refusal must name the
/// problem; the ring's campaign also checks that no window vanishes unreported
/// and none is invented.
@Suite("Fuzz: hostile inputs, each in a bounded child process", .tags(.slow), .serialized)
struct FuzzTests {
    static let yamlTokens: [[UInt8]] = [
        ":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: *a\n", "!!str ", "!!binary ", "!custom ",
        "1:1:1:1:1:1:1:1:1:1:1:1",
        ".nan", "-.inf", "0x", "0o7", "0b", "~", "null", "\"", "'", "\\", "\n  ", "\n", "#", "\u{0}", "\t",
        "99999999999999999999", "-1",
        "1e309", String(repeating: "a", count: 300), "$SYS", "//", "%YAML 1.1\n", "---\n", "...\n", "? ", "|\n  ",
        ">\n  ",
    ].map { Array($0.utf8) }

    static let jsonTokens: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\u", "\\ud800", "1e309", "-0", "00", "null", "true", "{}", "[]",
        "\"transaction\":",
        "\"config_version\":", "\"throttle\":", "\"max_rate_hz\":", "\"windows\":", "\"k_anonymity\":", "\"device\":",
        "\"id\":",
        "99999999999999999999", "\u{0}", "\u{FEFF}", ",}", String(repeating: "[", count: 40),
        "\"mqtt\":{\"host\":\"x\"}",
    ].map { Array($0.utf8) }

    static func file(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test("configuration files: config validate refuses with the key, or accepts; never a crash, a hang or 512 MiB")
    func configurationFiles() async throws {
        let seeds = [
            try Self.file(TestPaths.repository + "/etc/edgecensus.yaml"),
            try Self.file(TestPaths.samples + "/walkers.yaml"),
            Array("a0: &a0 [x, x, x]\na1: &a1 [*a0, *a0, *a0]\nwindows: {length: 60, k_anonymity: 2}\n".utf8),
            Array(
                "mqtt: {host: localhost, topic_prefix: edgecensus, tls: {ca_file: /etc/ssl/ca.pem}}\ndevice: {id: hall}\n"
                    .utf8),
        ]
        try await FuzzCampaign(name: "configuration", defaultSeed: 27_001).run { generator, index in
            let seed = seeds[index % seeds.count]
            let bytes =
                index < seeds.count ? seed : Mutation.mutate(seed, tokens: Self.yamlTokens, count: 6, using: &generator)
            return .init(bytes: bytes, fileName: "edgecensus.yaml") { path in
                ["config", "validate", "--no-models", path]
            }
        } check: { _, result in
            result.status == 0 || result.status == 2 ? nil : "exit \(result.status)"
        }
    }

    @Test("config/set payloads: a device answers ok or a refusal that says why; never a crash, a hang or 512 MiB")
    func requests() async throws {
        let directory = try TemporaryDirectory()
        let config = directory.file("device.yaml")
        try writeFile(config, Data("device: {id: hall}\nstate: {directory: \(directory.file("state"))}\n".utf8))
        let seeds = [
            #"{"throttle":{"max_rate_hz":1},"windows":{"k_anonymity":5},"transaction":"t-1"}"#,
            #"{"config_version":0,"tracking":{"track_timeout":4,"min_overlap":0.3}}"#,
            #"{"source":{"width":800,"height":600},"mqtt":{"health_interval":30}}"#,
            #"{"throttle":{"max_rate_hz":null}}"#,
        ].map { Array($0.utf8) }
        try await FuzzCampaign(name: "config-set", defaultSeed: 27_002).run { generator, index in
            let seed = seeds[index % seeds.count]
            let bytes =
                index < seeds.count ? seed : Mutation.mutate(seed, tokens: Self.jsonTokens, count: 5, using: &generator)
            return .init(bytes: bytes, fileName: "request.json") { path in
                ["config", "check-request", path, "--config", config]
            }
        } check: { _, result in
            switch result.status {
            case 0:
                return result.standardOutput.contains("\"status\":\"ok\"")
                    ? nil : "exit 0 without status ok: \(result.standardOutput)"
            case 1:
                return result.standardOutput.contains("\"status\":\"error\"")
                    && result.standardOutput.contains("\"error\":\"")
                    ? nil : "a refusal without its reason: \(result.standardOutput)"
            default: return "exit \(result.status)"
            }
        }
        #expect(
            !FileManager.default.fileExists(atPath: directory.file("state/remote-config.json")),
            "check-request saved a change")
    }

    @Test(
        "ring files: buffer inspect reports every window it cannot read, invents none, and never crashes, hangs or takes 512 MiB"
    )
    func ringFiles() async throws {
        let directory = try TemporaryDirectory()
        // A ring that has wrapped: 30 windows written, the oldest acknowledged, 12 or so pending.
        let base = directory.file("base.ring")
        var payloads: [UInt64: [UInt8]] = [:]
        do {
            let ring = try RingFile(path: base, capacity: 3 * 4096, sync: .never)
            var generator = SplitMix64(seed: 5)
            for sequence in UInt64(1)...30 {
                let payload =
                    Array("{\"seq\":\(sequence),\"people\":\(sequence % 7)}".utf8)
                    + [UInt8](repeating: UInt8(ascii: " "), count: Int.random(in: 100...400, using: &generator))
                payloads[sequence] = payload
                try ring.append(sequence: sequence, payload: payload)
                if sequence % 3 == 0 || sequence < 12 { try ring.acknowledge(sequence: sequence) }
            }
        }
        let original = try Self.file(base)
        let pendingBefore = try RingFile.scan(path: base)
        try await FuzzCampaign(name: "ring", defaultSeed: 27_003).run { generator, index in
            var bytes = original
            switch index % 5 {
            case 0:  // bit flips and byte changes
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                }
            case 1:  // a block zeroed, as a disk may give one back
                let block = Int.random(in: 0..<(bytes.count / 512), using: &generator) * 512
                for at in block..<min(bytes.count, block + 512 * Int.random(in: 1...8, using: &generator)) {
                    bytes[at] = 0
                }
            case 2:  // cut short
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 3:  // a record renumbered far out of range, its CRC made to match
                if let sequence = pendingBefore.randomElement(using: &generator),
                    let at = RingFile.locate(sequence: sequence, in: bytes)
                {
                    let number = [UInt64.max, 1 << 53, 0].randomElement(using: &generator)!
                    withUnsafeBytes(of: number.littleEndian) { bytes.replaceSubrange((at + 12)..<(at + 20), with: $0) }
                    let length = Int(bytes[at + 8]) | Int(bytes[at + 9]) << 8
                    var header = Array(bytes[at..<(at + 20)])
                    header.replaceSubrange(0..<4, with: [0x31, 0x52, 0x43, 0x45])  // the CRC is over "ECR1"
                    let crc = CRC32C.checksum(
                        Array(bytes[(at + 24)..<(at + 24 + length)]), continuing: CRC32C.checksum(header))
                    withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((at + 20)..<(at + 24), with: $0) }
                }
            default:  // anything
                bytes = Mutation.mutate(
                    bytes,
                    tokens: [
                        [0x31, 0x52, 0x43, 0x45], [0x4B, 0x43, 0x41, 0x45], [0x57, 0x52, 0x43, 0x45],
                        [UInt8](repeating: 0, count: 64), [UInt8](repeating: 0xFF, count: 64),
                    ],
                    count: 6, using: &generator)
            }
            return .init(bytes: bytes, fileName: "buffer.ring") { path in ["buffer", "inspect", path] }
        } check: { _, result in
            guard result.status == 0 else {
                return result.standardError.contains("buffer.ring") ? nil : "a refusal that does not name the file"
            }
            let lines = result.standardOutput.split(separator: "\n")
            let pending = lines.compactMap { line -> UInt64? in
                guard line.hasPrefix("  seq ") else { return nil }
                return UInt64(line.dropFirst(6).prefix { $0.isNumber })
            }
            if let invented = pending.first(where: { payloads[$0] == nil }) {
                return "window \(invented) was never written"
            }
            let lost = Set(pendingBefore).subtracting(pending)
            guard !lost.isEmpty else { return nil }
            let reported =
                result.standardOutput.contains("checkpoint missing or damaged")
                || result.standardOutput.contains("note: ")
                || lines.contains { $0.hasPrefix("skipped:") && $0.contains(where: { ("1"..."9").contains($0) }) }
            return reported ? nil : "windows \(lost.sorted()) vanished without a report:\n\(result.standardOutput)"
        }
    }

    @Test("images: refused by name when undecodable, damaged, cut short or too large; never a crash, a hang or 512 MiB")
    func images() async throws {
        let jpeg = try Self.file(TestPaths.samples + "/fairface_0019.jpg")
        let png = try Self.file(TestPaths.samples + "/astronaut.png")
        try await FuzzCampaign(name: "image", defaultSeed: 27_004).run { generator, index in
            var bytes = index % 2 == 0 ? jpeg : png
            let name = index % 2 == 0 ? "photo.jpg" : "photo.png"
            switch index % 4 {
            case 0, 1:
                bytes = Mutation.mutate(
                    bytes,
                    tokens: [[0xFF, 0xD8], [0xFF, 0xD9], [0xFF, 0xC0], [0xFF, 0xDA], [0x49, 0x44, 0x41, 0x54]],
                    count: 4, using: &generator)
            case 2:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            default:
                // Dimensions declared large: a JPEG's SOF0 or a PNG's IHDR (whose CRC then fails, or not).
                if name.hasSuffix(".png") {
                    let side = UInt32.random(in: 1...60_000, using: &generator)
                    withUnsafeBytes(of: side.bigEndian) { bytes.replaceSubrange(16..<20, with: $0) }
                    withUnsafeBytes(of: side.bigEndian) { bytes.replaceSubrange(20..<24, with: $0) }
                } else if let sof = (0..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
                {
                    let side = UInt16.random(in: 1...65_535, using: &generator)
                    withUnsafeBytes(of: side.bigEndian) { bytes.replaceSubrange((sof + 5)..<(sof + 7), with: $0) }
                    withUnsafeBytes(of: side.bigEndian) { bytes.replaceSubrange((sof + 7)..<(sof + 9), with: $0) }
                }
            }
            return .init(bytes: bytes, fileName: name) { path in ["debug", "image", path] }
        } check: { _, result in
            result.status == 0 || result.standardError.contains("photo.")
                ? nil : "a refusal that does not name the file"
        }
    }

    @Test("sequence files: read or set aside with a note, numbers in range; never a crash, a hang or 512 MiB")
    func sequenceFiles() async throws {
        let seeds = [
            "41\n", "41 0123456789abcdef\n", "18446744073709551615\n", "9007199254740991 0123456789abcdef\n", "",
            "\u{0}",
        ]
        .map { Array($0.utf8) }
        try await FuzzCampaign(name: "sequence", defaultSeed: 27_005).run { generator, index in
            let seed = seeds[index % seeds.count]
            let bytes =
                index < seeds.count
                ? seed
                : Mutation.mutate(
                    seed,
                    tokens: [
                        Array("9".utf8), Array(" ".utf8), Array("-".utf8), Array("\n".utf8),
                        Array("ffffffffffffffff".utf8), Array("99999999999999999999".utf8),
                    ],
                    count: 4, using: &generator)
            return .init(bytes: bytes, fileName: "sequence") { path in ["debug", "sequence", path] }
        } check: { _, result in
            guard result.status == 0,
                let line = result.standardOutput.split(separator: "\n").first(where: { $0.hasPrefix("next window: ") }),
                let number = UInt64(line.dropFirst(13).prefix { $0.isNumber })
            else {
                return "no next number: \(result.standardOutput) \(result.standardError)"
            }
            return (1...((UInt64(1) << 53) - 1)).contains(number) ? nil : "number \(number) out of range"
        }
    }
}
