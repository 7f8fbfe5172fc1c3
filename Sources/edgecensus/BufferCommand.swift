import ArgumentParser
import EdgeCensusBuffer
import EdgeCensusSupport
import Foundation

struct BufferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buffer",
        abstract: "Look into the offline buffer (the ring file of windows the broker has not acknowledged).",
        discussion: """
            Both read a private copy: the file is never changed, even a damaged one, and the \
            agent may keep running.

            Examples:
              edgecensus buffer inspect /var/lib/edgecensus/buffer.ring
              edgecensus buffer export /var/lib/edgecensus/buffer.ring > pending.jsonl
            """,
        subcommands: [Inspect.self, Export.self])

    static func open(_ file: String) throws -> RingFile {
        do {
            return try RingFile.check(path: file)
        } catch {
            StandardError.print("edgecensus: \(error)")
            throw ExitCode(2)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the ring's state and one line per pending window.")

        @Argument(help: ArgumentHelp("The ring file.", valueName: "file"))
        var file: String

        func run() throws {
            let ring = try BufferCommand.open(file)
            let sequences = ring.pendingSequences
            print(
                "\(file): \(ring.capacity) bytes, checkpoint \(ring.recovery.checkpointValid ? "valid" : "missing or damaged")"
            )
            print(
                "pending windows: \(sequences.count)"
                    + (sequences.isEmpty ? "" : ", seq \(sequences.first!)–\(sequences.last!)")
                    + ", \(ring.usedBytes) bytes in use")
            print("highest window number written: \(ring.lastSequence)")
            print("dropped because the ring was full: \(ring.droppedTotal)")
            let recovery = ring.recovery
            print(
                "skipped: \(recovery.damaged) damaged or torn record(s), \(recovery.outOfRange) with a number out of range; "
                    + "\(recovery.unreadableBytes) unreadable byte(s) among the pending windows (\(recovery.zeroedBytes) zeroed); "
                    + "\(recovery.missingNumbers) number(s) missing between them")
            if let note = recovery.note { print("note: \(note)") }
            for record in try ring.pendingRecords() {
                let object = (try? JSONValue.parse(json: Data(record.payload)))?.object
                let start =
                    object?["window_start"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? "?"
                let people = object?["people"].map { "\($0)" } ?? "?"
                print("  seq \(record.sequence)  \(record.payload.count) bytes  window \(start)  people \(people)")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the pending windows as JSON lines, oldest first.")

        @Argument(help: ArgumentHelp("The ring file.", valueName: "file"))
        var file: String

        func run() throws {
            let ring = try BufferCommand.open(file)
            for record in try ring.pendingRecords() {
                FileHandle.standardOutput.write(Data(record.payload + [UInt8(ascii: "\n")]))
            }
        }
    }
}
