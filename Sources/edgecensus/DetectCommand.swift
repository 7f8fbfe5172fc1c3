import ArgumentParser
import EdgeCensusConfiguration
import EdgeCensusSupport
import EdgeCensusVision
import Foundation

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find the faces in photos and estimate each one's gender and age.",
        discussion: """
            Prints a table per photo, or with --json one JSON document per photo (one per line). \
            A photo that is missing or not an image gets a one-line error and the others go on; \
            the exit status is then 1. Exit status 2: the models or the configuration could not be loaded.

            Examples:
              edgecensus detect Samples/astronaut.png
              edgecensus detect --json photos/*.jpg
              edgecensus detect --annotate /tmp/annotated Samples/*.jpg
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "One JSON document per photo instead of a table.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write a copy of each photo with boxes and labels: a file path for one photo, else a directory.",
            valueName: "out"))
    var annotate: String?

    @Argument(help: ArgumentHelp("Photos to analyse (JPEG or PNG).", valueName: "photo"))
    var photos: [String]

    func validate() throws {
        guard !photos.isEmpty else { throw ValidationError("Name at least one photo.") }
    }

    func run() throws {
        let (configuration, pipeline) = try modelOptions.loadPipeline()
        var failures = 0
        for photo in photos {
            do {
                let image = try Image.load(contentsOf: photo, maxPixels: configuration.maxImageMegapixels * 1_000_000)
                var timings = StageTimings()
                let analyses = try pipeline.analyseInDetail(image, timings: &timings)
                let faces = analyses.map(\.observation)
                print(
                    json
                        ? DetectionOutput.json(photo: photo, image: image, faces: faces)
                        : DetectionOutput.table(photo: photo, image: image, faces: faces))
                if let annotate {
                    let destination = try annotationPath(for: photo, out: annotate)
                    try FaceAnnotation.annotated(image, faces: analyses).write(to: destination)
                    if !json { print("  annotated copy: \(destination)") }
                }
            } catch {
                failures += 1
                StandardError.print("edgecensus: \(error)")
                if json { print(DetectionOutput.json(photo: photo, error: "\(error)")) }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func annotationPath(for photo: String, out: String) throws -> String {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory)
        guard photos.count > 1 || (exists && isDirectory.boolValue) else { return out }
        if !exists { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        let name = (photo as NSString).lastPathComponent
        let destination = (out as NSString).appendingPathComponent(name)
        guard URL(fileURLWithPath: destination).standardized != URL(fileURLWithPath: photo).standardized else {
            throw ValidationError("--annotate would overwrite the photo \(photo); choose another directory")
        }
        return destination
    }
}

/// How `detect` prints its results.
enum DetectionOutput {
    static func table(photo: String, image: Image, faces: [FaceObservation]) -> String {
        var lines = ["\(photo): \(faces.count) face\(faces.count == 1 ? "" : "s") (\(image.width)x\(image.height))"]
        guard !faces.isEmpty else { return lines.joined() }
        lines.append("   #  box (x,y w x h)        face   gender         age  group")
        for (index, face) in faces.enumerated() {
            let box = "\(face.box.x),\(face.box.y) \(face.box.width)x\(face.box.height)"
            let number = String(index + 1)
            // An unknown answer shows the confidence it had: "unknown 0.62".
            let gender = "\(face.gender?.rawValue ?? "unknown") \(String(format: "%.2f", face.genderConfidence))"
            lines.append(
                String(repeating: " ", count: max(0, 4 - number.count)) + number + "  "
                    + box.padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(format: "  %.2f   ", face.detectionConfidence)
                    + gender.padding(toLength: 13, withPad: " ", startingAt: 0)
                    + String(format: "  %5.1f  ", face.age)
                    + (face.ageGroup?.label ?? "unknown").padding(toLength: 8, withPad: " ", startingAt: 0)
                    + String(format: " %.2f", face.ageConfidence))
        }
        return lines.joined(separator: "\n")
    }

    struct Document: Encodable {
        var image: String
        var width: Int?
        var height: Int?
        var faces: [FaceObservation]?
        var error: String?
    }

    static func json(photo: String, image: Image, faces: [FaceObservation]) -> String {
        encode(Document(image: photo, width: image.width, height: image.height, faces: faces))
    }

    static func json(photo: String, error: String) -> String {
        encode(Document(image: photo, error: error))
    }

    /// As every document: a `JSONValue` written by `JSONText` (keys in byte order).
    private static func encode(_ document: Document) -> String {
        (try? JSONValue(encoding: document)).map(JSONText.line) ?? "{}"
    }
}
