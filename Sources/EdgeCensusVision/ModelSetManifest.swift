import Foundation

/// `model-set.json`: what an optional model set adds to the default files, and how
/// each of its nets is run. The default set (`Models/`) has none: its nets are the
/// presets. `Models/tools/make-optional-set.sh` writes one; `edgecensus models check`
/// verifies it and runs every net once.
public struct ModelSetManifest: Sendable, Equatable, Decodable {
    public static let fileName = "model-set.json"
    public static let schemaName = "edgecensus.model-set/1"

    /// How a net's input is made from a crop: its size, channel order, and
    /// `(pixel - mean) * scale` per channel (mean in that order).
    public struct Input: Sendable, Equatable, Decodable {
        public var width: Int
        public var height: Int
        public var colorOrder: ColorOrder
        public var mean: [Double]
        public var scale: Double
    }

    public struct Detector: Sendable, Equatable, Decodable {
        /// `yunet`: the only kind a set may add (the default set's res10 SSD needs no entry).
        public var kind: String
        public var file: String
        public var sha256: String
        public var input: Input
        /// How a camera's or a video's frames are searched, where it differs from a
        /// photo: a smaller input (less work per frame) and a lower threshold (a false
        /// face in one frame is never counted, a missed one can split a person in two).
        public var frames: Frames?
        public var scoreThreshold: Double?
        public var nmsThreshold: Double?
        /// Where the detector's five landmarks sit in dlib's unit face, when they align
        /// the dlib nets' chips in place of the shape predictor.
        public var landmarkTemplate: [[Double]]?
        /// Where the shape predictor looks, relative to this detector's box (as
        /// `alignment.scale` and `alignment.shift` do for the default detector).
        public var alignment: Alignment?
    }

    public struct Frames: Sendable, Equatable, Decodable {
        public var width: Int
        public var height: Int
        public var scoreThreshold: Double?
    }

    public struct Alignment: Sendable, Equatable, Decodable {
        public var scale: Double
        public var shift: Double
    }

    /// How a face is cut out for a net: `box` (the detector's box, `trimTop` of its
    /// height cut off the top, made square by black padding when `square` is
    /// `pad-black`) or `aligned` (the 5-point landmarks, `padding` around them).
    public struct Crop: Sendable, Equatable, Decodable {
        public var kind: String
        public var trimTop: Double?
        public var square: String?
        public var padding: Double?

        /// The crop as the pipeline cuts it.
        var faceCrop: FaceCrop {
            if kind == "aligned" { return .aligned(padding: padding ?? 0.2) }
            if square == "pad-black" { return .trimmedSquare(trimTop: trimTop ?? 0) }
            return .box(margin: padding ?? 0)
        }
    }

    /// One output of a net: `age-years` (an age, a number) or `gender-probabilities` (one per label).
    public struct Output: Sendable, Equatable, Decodable {
        public var name: String
        public var kind: String
        public var labels: [String]?
    }

    public struct Net: Sendable, Equatable, Decodable {
        public var id: String
        public var file: String
        public var sha256: String
        public var input: Input
        public var crop: Crop
        public var outputs: [Output]
    }

    /// Where the gender comes from: each net's weight on its raw log-odds.
    public struct GenderRole: Sendable, Equatable, Decodable {
        public struct Source: Sendable, Equatable, Decodable {
            public var net: String
            public var weight: Double
        }
        public var nets: [Source]
    }

    /// Where the age comes from: one net, and the spread of its error when it gives years.
    public struct AgeRole: Sendable, Equatable, Decodable {
        public var net: String
        public var spread: Double?
    }

    public var schema: String
    public var name: String
    public var description: String?
    public var detector: Detector?
    public var nets: [Net]
    /// The roles the agent runs the set's nets in; a set without them only adds files
    /// (`models check` runs them; the pipeline keeps the default detector and nets).
    public var gender: GenderRole?
    public var age: AgeRole?

    /// The default set's nets, which a set's roles may name beside its own.
    public static let presetNets: [String: ClassifierSpec] = [
        "dlib-cydral-gender": .dlibGender, "dlib-cydral-age": .dlibAge,
    ]

    /// The set's manifest, or nil when the directory has none (the default set).
    /// A manifest that cannot be read, or describes something that cannot work, is an error naming what.
    public static func load(from models: ModelDirectory) throws(VisionError) -> ModelSetManifest? {
        let path = (models.path as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // Listed in SHA256SUMS (make-optional-set.sh lists it): verified like any model file.
        _ = try models.verifiedFile(fileName, role: "model set manifest")
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw .fileUnreadable(path: path, reason: "not readable, or larger than 1 MiB")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: ModelSetManifest
        do {
            manifest = try decoder.decode(ModelSetManifest.self, from: data)
        } catch {
            throw .malformedModel(path: path, reason: "not a model set manifest: \(Self.describe(error))")
        }
        if let problem = manifest.problem { throw .malformedModel(path: path, reason: problem) }
        return manifest
    }

    /// What cannot work as written, or nil.
    public var problem: String? {
        guard schema == Self.schemaName else {
            return "schema '\(schema)', expected \(Self.schemaName) (made by a newer EdgeCensus?)"
        }
        func inputProblem(_ input: Input, _ role: String) -> String? {
            guard (1...4096).contains(input.width), (1...4096).contains(input.height) else {
                return "\(role): input \(input.width)x\(input.height), expected sides of 1 to 4096"
            }
            guard input.mean.count == 3, input.scale > 0, input.scale.isFinite else {
                return "\(role): input needs 3 means and a scale above 0"
            }
            return nil
        }
        if let detector {
            guard detector.kind == "yunet" else { return "detector kind '\(detector.kind)', expected yunet" }
            guard detector.input.width % 32 == 0, detector.input.height % 32 == 0 else {
                return
                    "detector: input \(detector.input.width)x\(detector.input.height); YuNet's sides must be multiples of 32"
            }
            if let problem = inputProblem(detector.input, "detector") { return problem }
            if let frames = detector.frames {
                if frames.width < 32 || frames.height < 32 || frames.width % 32 != 0 || frames.height % 32 != 0
                    || frames.width > 4096 || frames.height > 4096
                {
                    return
                        "detector: frames \(frames.width)x\(frames.height); YuNet's sides must be multiples of 32, up to 4096"
                }
                if let score = frames.scoreThreshold, !(0...1).contains(score) {
                    return "detector: frames.score_threshold \(score), expected 0 to 1"
                }
            }
            if let alignment = detector.alignment,
                !(0.5...2).contains(alignment.scale) || !(-0.5...0.5).contains(alignment.shift)
            {
                return
                    "detector: alignment scale \(alignment.scale) and shift \(alignment.shift), expected 0.5 to 2 and -0.5 to 0.5"
            }
            if let template = detector.landmarkTemplate,
                template.count != 5 || template.contains(where: { $0.count != 2 || !$0.allSatisfy(\.isFinite) })
            {
                return "detector: landmark_template needs five [x, y] points"
            }
            for (name, value) in [
                ("score_threshold", detector.scoreThreshold), ("nms_threshold", detector.nmsThreshold),
            ] {
                if let value, !(0...1).contains(value) { return "detector: \(name) \(value), expected 0 to 1" }
            }
        }
        var ids = Set<String>()
        for net in nets {
            guard ids.insert(net.id).inserted else { return "net id '\(net.id)' appears twice" }
            if let problem = inputProblem(net.input, "net \(net.id)") { return problem }
            guard ["box", "aligned"].contains(net.crop.kind) else {
                return "net \(net.id): crop '\(net.crop.kind)', expected box or aligned"
            }
            if let trim = net.crop.trimTop, !(0..<1).contains(trim) {
                return "net \(net.id): trim_top \(trim), expected 0 to below 1"
            }
            if let square = net.crop.square, square != "pad-black" {
                return "net \(net.id): square '\(square)', expected pad-black"
            }
            guard !net.outputs.isEmpty else { return "net \(net.id): no outputs" }
            for output in net.outputs {
                switch output.kind {
                case "age-years": break
                case "gender-probabilities":
                    guard let labels = output.labels, Set(labels) == ["male", "female"], labels.count == 2 else {
                        return "net \(net.id): output \(output.name) needs labels male and female, in the net's order"
                    }
                default:
                    return "net \(net.id): output kind '\(output.kind)', expected age-years or gender-probabilities"
                }
            }
        }
        if let gender, let age {
            let known = Set(nets.map(\.id)).union(Self.presetNets.keys)
            guard !gender.nets.isEmpty else { return "gender: names no net" }
            for id in gender.nets.map(\.net) + [age.net] where !known.contains(id) {
                return
                    "'\(id)' is neither a net of the set nor one of \(Self.presetNets.keys.sorted().joined(separator: ", "))"
            }
            for source in gender.nets where !source.weight.isFinite {
                return "gender: net \(source.net)'s weight is not a number"
            }
            if let net = nets.first(where: { $0.id == age.net }),
                net.outputs.contains(where: { $0.kind == "age-years" })
            {
                guard let spread = age.spread, spread > 0, spread.isFinite else {
                    return "age: net \(age.net) gives years: give its spread (above 0)"
                }
            }
        } else if gender != nil || age != nil {
            return "gender and age: give both roles, or neither"
        }
        return nil
    }

    /// The nets the roles name, each once, as specs with their role: what
    /// `FacePipeline.load` runs. Nil when the set names no roles.
    public func classifiers() -> [(spec: ClassifierSpec, key: String, gender: Bool, age: Bool)]? {
        guard let gender, let age else { return nil }
        var ids = gender.nets.map(\.net)
        if !ids.contains(age.net) { ids.append(age.net) }
        return ids.compactMap { id in
            var spec: ClassifierSpec
            if let net = nets.first(where: { $0.id == id }) {
                spec = Self.spec(for: net)
            } else if let preset = Self.presetNets[id] {
                spec = preset
            } else {
                return nil
            }
            let weight = gender.nets.first { $0.net == id }?.weight
            spec.genderWeight = gender.nets.count > 1 ? weight : nil
            if id == age.net { spec.ageSpread = age.spread }
            return (spec, "\(Self.fileName) net \(id)", weight != nil, id == age.net)
        }
    }

    /// How one of the set's nets is run: its file, checksum, input, crop and outputs.
    public static func spec(for net: Net) -> ClassifierSpec {
        ClassifierSpec(
            model: net.file, modelSHA256: net.sha256, inputWidth: net.input.width, inputHeight: net.input.height,
            colorOrder: net.input.colorOrder, mean: net.input.mean, scale: net.input.scale, crop: net.crop.faceCrop,
            outputs: net.outputs.map { output in
                ClassifierOutput(
                    name: output.name,
                    kind: output.kind == "age-years"
                        ? .ageYears : .genderProbabilities(labels: output.labels ?? []))
            })
    }

    /// Every file the manifest names with its expected sha256.
    public var files: [(file: String, sha256: String)] {
        (detector.map { [($0.file, $0.sha256)] } ?? []) + nets.map { ($0.file, $0.sha256) }
    }

    /// `nets[0].id`, as the file's keys are written.
    private static func keyPath(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { text, key in
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(keyPath(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "'\(keyPath(context.codingPath))': \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not valid JSON" : "'\(keyPath(context.codingPath))': \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
