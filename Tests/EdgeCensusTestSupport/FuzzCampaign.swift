import Foundation
import Testing

/// A seeded, bounded fuzz campaign against the built `edgecensus`: each case is
/// written to a file and given to a command in a child process under an
/// address-space limit and a time limit. A case fails when the child dies by a
/// signal, runs past the time limit, or exits non-zero without an `edgecensus:`
/// line that names the problem; `check` adds the input class's own invariants.
///
/// `EDGECENSUS_FUZZ_CASES` sets the cases per class (default 300) and
/// `EDGECENSUS_FUZZ_SEED` the seed (default: each class's fixed one); the seed
/// is printed, and every failing input is kept in a folder that is printed too.
public struct FuzzCampaign {
    public let name: String
    public let seed: UInt64
    public let cases: Int
    /// Address space a child may use: 512 MiB.
    public static let addressSpaceKiB = 512 * 1024
    /// Seconds a case may take.
    public static let timeLimit = 20.0

    public init(name: String, defaultSeed: UInt64) {
        self.name = name
        let environment = ProcessInfo.processInfo.environment
        seed = environment["EDGECENSUS_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
        cases = environment["EDGECENSUS_FUZZ_CASES"].flatMap { Int($0) } ?? 300
    }

    /// What one case gives the command: the bytes, and the arguments around the file's path.
    public struct Case {
        public var bytes: [UInt8]
        public var fileName: String
        public var arguments: (String) -> [String]

        public init(bytes: [UInt8], fileName: String, arguments: @escaping (String) -> [String]) {
            self.bytes = bytes
            self.fileName = fileName
            self.arguments = arguments
        }
    }

    /// The outcome counts, for the summary line.
    public struct Summary: CustomStringConvertible {
        public var accepted = 0
        public var refused = 0
        public var failures: [String] = []
        public var slowest = 0.0
        public var description: String {
            "\(accepted) accepted, \(refused) refused with a message, \(failures.count) failed; slowest case \(String(format: "%.2f", slowest)) s"
        }
    }

    /// Runs every case; `make` builds case `index` from the generator; `check` returns
    /// a problem with a finished case beyond the common invariants (nil when none).
    @discardableResult
    public func run(
        make: (inout SplitMix64, Int) throws -> Case,
        check: (Case, ProcessResult) -> String? = { _, _ in nil }
    ) async throws -> Summary {
        let directory = try TemporaryDirectory()
        let kept = NSTemporaryDirectory() + "edgecensus-fuzz-\(name)-\(seed)"
        var generator = SplitMix64(seed: seed)
        var summary = Summary()
        print(
            "fuzz \(name): \(cases) cases, seed \(seed) (EDGECENSUS_FUZZ_SEED=\(seed) EDGECENSUS_FUZZ_CASES=\(cases) to replay)"
        )
        for index in 0..<cases {
            let fuzzCase = try make(&generator, index)
            let path = directory.file("\(index)-\(fuzzCase.fileName)")
            try Data(fuzzCase.bytes).write(to: URL(fileURLWithPath: path))
            let started = Date()
            let result = try await ProcessRunner.runWithoutBlocking(
                "/bin/sh",
                ["-c", "ulimit -v \(Self.addressSpaceKiB) && exec \"$@\"", "sh", TestPaths.executable]
                    + fuzzCase.arguments(path), timeout: Self.timeLimit)
            summary.slowest = max(summary.slowest, Date().timeIntervalSince(started))
            var problem: String?
            if result.timedOut {
                problem = "ran past \(Int(Self.timeLimit)) s"
            } else if result.signalled {
                problem = "died by signal \(result.status)"
            } else if result.status != 0 && !result.standardError.contains("edgecensus: ") {
                problem = "exit \(result.status) without saying why"
            } else {
                problem = check(fuzzCase, result)
            }
            if let problem {
                try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
                let copy = kept + "/\(index)-\(fuzzCase.fileName)"
                try? FileManager.default.removeItem(atPath: copy)
                try? FileManager.default.copyItem(atPath: path, toPath: copy)
                summary.failures.append(
                    "case \(index) (\(copy)): \(problem); stderr: \(result.standardError.prefix(400))")
            } else if result.status == 0 {
                summary.accepted += 1
            } else {
                summary.refused += 1
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        print("fuzz \(name): \(summary)")
        #expect(
            summary.failures.isEmpty,
            "fuzz \(name), seed \(seed):\n\(summary.failures.prefix(10).joined(separator: "\n"))")
        return summary
    }
}

/// Small mutations of a byte string, for the campaigns.
public enum Mutation {
    /// One to `count` random edits: bit flips, byte changes, cuts, insertions of
    /// `tokens`, duplicated or removed runs.
    public static func mutate(_ input: [UInt8], tokens: [[UInt8]], count: Int = 4, using generator: inout SplitMix64)
        -> [UInt8]
    {
        var bytes = input
        for _ in 0..<Int.random(in: 1...count, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<7, using: &generator) {
            case 0 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 1 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 2: bytes = Array(bytes.prefix(position))
            case 3: bytes.insert(contentsOf: tokens.randomElement(using: &generator) ?? [], at: position)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 5 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
                bytes.removeSubrange(position..<end)
            default:
                bytes.insert(
                    contentsOf: (0..<Int.random(in: 1...16, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    },
                    at: position)
            }
        }
        return bytes
    }
}
