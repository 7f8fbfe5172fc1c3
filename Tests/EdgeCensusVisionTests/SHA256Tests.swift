import EdgeCensusTestSupport
import EdgeCensusVision
import Foundation
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    @Test(
        "matches the FIPS 180-4 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func vectors(message: String, digest: String) {
        var hasher = SHA256()
        hasher.update(Array(message.utf8))
        #expect(hasher.finalize() == digest)
    }

    @Test("a file hashed in pieces gives the same digest as sha256sum")
    func fileDigest() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bytes")
        // 3 MiB + 5 bytes: several 1 MiB reads and a partial block.
        let bytes = (0..<(3 << 20) + 5).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try writeFile(path, Data(bytes))
        let reference = try ProcessRunner.run("/usr/bin/sha256sum", [path]).standardOutput.prefix(64)
        #expect(try SHA256.hexDigest(ofFile: path) == String(reference))
    }
}
