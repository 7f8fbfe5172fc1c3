import Foundation

/// Verifies a model set and runs each of its nets once on a photo: what
/// `edgecensus models check` prints, one line per part.
public enum ModelSetCheck {
    public struct Line: Sendable, Equatable {
        public var passed: Bool
        /// What was checked: `files`, `manifest`, `pipeline`, `detector yunet`, `net faceapi`.
        public var part: String
        public var detail: String
    }

    /// Checks the set in `models` on `photo` (a photo with at least one face).
    public static func run(_ models: ModelDirectory, photo: Image, photoName: String) -> [Line] {
        var lines: [Line] = []
        // Every file SHA256SUMS lists, present and matching.
        var bad: [String] = []
        for file in models.checksums.keys.sorted() {
            do { _ = try models.verifiedFile(file, role: "model file") } catch { bad.append("\(error)") }
        }
        lines.append(
            bad.isEmpty
                ? Line(
                    passed: true, part: "files",
                    detail: "\(models.checksums.count) listed in SHA256SUMS, every checksum matches")
                : Line(passed: false, part: "files", detail: bad.joined(separator: "; ")))

        let manifest: ModelSetManifest?
        do {
            manifest = try ModelSetManifest.load(from: models)
            lines.append(
                Line(
                    passed: true, part: "manifest",
                    detail: manifest.map { "\($0.name) (\($0.schema))" }
                        ?? "none: the default set (res10 SSD, dlib landmarks, dlib/Cydral nets)"))
        } catch {
            manifest = nil
            lines.append(Line(passed: false, part: "manifest", detail: "\(error)"))
        }

        // The pipeline the agent runs: the set's roles where it names them, else the default nets.
        var face: Box?
        do {
            let pipeline = try FacePipeline.load(from: models)
            let started = ContinuousClock.now
            let observations = try pipeline.analyse(photo)
            let took = (ContinuousClock.now - started).seconds * 1000
            guard let first = observations.first else {
                throw VisionError.unexpectedOutput(model: "res10 SSD", reason: "no face found on \(photoName)")
            }
            face = Box(
                x: Double(first.box.x), y: Double(first.box.y), width: Double(first.box.width),
                height: Double(first.box.height))
            let nets = pipeline.classifiers.map { ($0.spec.model as NSString).lastPathComponent }.joined(
                separator: ", ")
            lines.append(
                Line(
                    passed: true, part: "pipeline",
                    detail: String(
                        format: "%d face(s) on %@; the first %@ %.2f, age %.1f; %@ and %@; %.0f ms", observations.count,
                        photoName,
                        first.likelyGender.rawValue, first.genderConfidence, first.age,
                        pipeline.detector is YuNetDetector ? "YuNet" : "res10 SSD", nets, took)))
        } catch {
            lines.append(Line(passed: false, part: "pipeline", detail: "\(error)"))
        }

        guard let manifest else { return lines }
        if let detector = manifest.detector {
            do {
                let yunet = try YuNetDetector.load(detector, from: models)
                let started = ContinuousClock.now
                let faces = try yunet.detect(in: photo)
                let took = (ContinuousClock.now - started).seconds * 1000
                guard let best = faces.first else {
                    throw VisionError.unexpectedOutput(model: detector.file, reason: "no face found on \(photoName)")
                }
                face = best.box
                lines.append(
                    Line(
                        passed: true, part: "detector \(detector.kind)",
                        detail: String(
                            format: "%d face(s) on %@ at %dx%d, the best scored %.2f; %.0f ms", faces.count, photoName,
                            detector.input.width, detector.input.height, best.score, took)))
            } catch {
                lines.append(Line(passed: false, part: "detector \(detector.kind)", detail: "\(error)"))
            }
        }
        for net in manifest.nets {
            do {
                guard let face else {
                    throw VisionError.unexpectedOutput(model: net.file, reason: "no face to run it on")
                }
                let spec = ModelSetManifest.spec(for: net)
                let classifier = try FaceClassifier.load(spec, from: models, role: "net \(net.id)")
                guard net.crop.kind == "box" else {
                    throw VisionError.invalidSpecification(
                        key: "nets.\(net.id).crop", reason: "only box crops are run by the check yet")
                }
                let chip = try FaceChip.cut(for: spec, box: face, landmarks: nil, from: photo)
                let started = ContinuousClock.now
                let reading = try classifier.reading(for: chip)
                let took = (ContinuousClock.now - started).seconds * 1000
                var read: [String] = []
                for output in spec.outputs {
                    switch output.kind {
                    case .ageYears:
                        read.append(String(format: "age %.1f", reading.ageYears ?? .nan))
                    case .genderProbabilities(let labels):
                        read.append(
                            zip(labels, reading.gender ?? []).map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(
                                separator: ", "))
                    }
                }
                lines.append(
                    Line(
                        passed: true, part: "net \(net.id)",
                        detail: read.joined(separator: "; ") + String(format: "; %.1f ms", took)))
            } catch {
                lines.append(Line(passed: false, part: "net \(net.id)", detail: "\(error)"))
            }
        }
        return lines
    }
}
