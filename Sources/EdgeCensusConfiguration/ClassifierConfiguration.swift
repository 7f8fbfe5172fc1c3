public import EdgeCensusVisionTypes

/// `classification.gender` / `classification.age`: a preset, optionally with
/// individual fields overridden, or a complete custom classifier.
public struct ClassifierConfiguration: Sendable, Equatable {
    public enum Preset: String, Sendable, CaseIterable {
        /// The shipped dlib/Cydral ONNX nets (aligned chips).
        case dlibCydral = "dlib-cydral"
        /// Levi & Hassner's Caffe nets; the user supplies the `.caffemodel` in `weights`.
        case leviHassner = "levi-hassner"
        /// Everything given explicitly.
        case custom
    }

    public var preset: Preset
    public var model: String?
    public var weights: String?
    public var modelSHA256: String?
    public var weightsSHA256: String?
    public var inputSize: Int?
    public var colorOrder: ColorOrder?
    public var mean: [Double]?
    public var scale: Double?
    public var labels: [String]?
    public var ageValues: [Double]?
    public var crop: String?
    public var cropPadding: Double?
    public var temperature: Double?
    /// `outputs`: a net with several named outputs, each `{name, kind, labels}` with
    /// kind `gender-probabilities` (labels male and female in the net's order) or `age-years`.
    public var outputs: [ClassifierOutput]?
    /// `age_spread`: for an `age-years` output, the spread of its error (ClassifierSpec.ageSpread).
    public var ageSpread: Double?
    /// `trim_top`: for `crop: trimmed-square`, the share of the box's height cut off the top.
    public var trimTop: Double?
    /// `gender_weight`: this net's weight where the gender is fused from several nets.
    public var genderWeight: Double?

    public static func preset(_ preset: Preset) -> ClassifierConfiguration {
        ClassifierConfiguration(preset: preset)
    }

    init(preset: Preset) { self.preset = preset }

    /// The classifier spec for the gender (`isAge == false`) or age role.
    public func spec(isAge: Bool) throws(ConfigurationError) -> ClassifierSpec {
        let role = isAge ? "classification.age" : "classification.gender"
        var spec: ClassifierSpec
        switch preset {
        case .dlibCydral:
            spec = isAge ? .dlibAge : .dlibGender
        case .leviHassner:
            guard let weights else {
                throw ConfigurationError(
                    key: "\(role).weights",
                    problem:
                        "the levi-hassner preset needs the path of the authors' \(isAge ? "age_net" : "gender_net").caffemodel (not shipped)"
                )
            }
            spec = isAge ? .leviHassnerAge(weights: weights) : .leviHassnerGender(weights: weights)
        case .custom:
            guard let model, let inputSize, let colorOrder, let mean, let scale else {
                throw ConfigurationError(
                    .missingKey, key: role,
                    problem: "a custom classifier needs model, input_size, color_order, mean and scale")
            }
            spec = ClassifierSpec(
                model: model, inputWidth: inputSize, inputHeight: inputSize, colorOrder: colorOrder,
                mean: mean, scale: scale, crop: .box(margin: 0.2))
        }
        if let model { spec.model = model }
        if let weights { spec.weights = weights }
        if let modelSHA256 { spec.modelSHA256 = modelSHA256 }
        if let weightsSHA256 { spec.weightsSHA256 = weightsSHA256 }
        if let inputSize { spec.inputWidth = inputSize; spec.inputHeight = inputSize }
        if let colorOrder { spec.colorOrder = colorOrder }
        if let mean { spec.mean = mean }
        if let scale { spec.scale = scale }
        if let labels { spec.labels = labels; if ageValues == nil { spec.ageValues = nil } }
        if let ageValues { spec.ageValues = ageValues; if labels == nil { spec.labels = nil } }
        if let temperature { spec.temperature = temperature }
        if let outputs { spec.outputs = outputs; spec.labels = nil; spec.ageValues = nil }
        if let ageSpread { spec.ageSpread = ageSpread }
        if let genderWeight { spec.genderWeight = genderWeight }
        if let crop {
            switch crop {
            case "aligned": spec.crop = .aligned(padding: cropPadding ?? 0.2)
            case "box": spec.crop = .box(margin: cropPadding ?? 0.15)
            case "trimmed-square": spec.crop = .trimmedSquare(trimTop: trimTop ?? 0)
            default:
                throw ConfigurationError(
                    key: "\(role).crop", problem: "'\(crop)' is not a crop; expected aligned, box or trimmed-square")
            }
        } else if let cropPadding {
            switch spec.crop {
            case .aligned: spec.crop = .aligned(padding: cropPadding)
            case .box: spec.crop = .box(margin: cropPadding)
            case .trimmedSquare:
                throw ConfigurationError(
                    key: "\(role).crop_padding", problem: "a trimmed-square crop has no padding; give trim_top")
            }
        }
        if trimTop != nil {
            guard case .trimmedSquare = spec.crop else {
                throw ConfigurationError(
                    key: "\(role).trim_top", problem: "only a trimmed-square crop is trimmed; add crop: trimmed-square")
            }
        }
        return spec
    }
}

extension ClassifierConfiguration: Decodable {
    /// The fields of a classifier's mapping, each with what it means.
    public enum Field: String, CodingKey, CaseIterable, Sendable {
        case preset, model, weights, modelSHA256 = "model_sha256", weightsSHA256 = "weights_sha256"
        case inputSize = "input_size", colorOrder = "color_order", mean, scale, labels
        case ageValues = "age_values", crop, cropPadding = "crop_padding", temperature
        case outputs, ageSpread = "age_spread", trimTop = "trim_top", genderWeight = "gender_weight"

        public var doc: String {
            switch self {
            case .preset:
                "dlib-cydral (shipped), levi-hassner (their Caffe nets; give weights), custom (every field given)."
            case .model: "The .onnx file, or a Caffe deploy.prototxt; relative paths are in the models directory."
            case .weights: "The .caffemodel of a Caffe model."
            case .modelSHA256, .weightsSHA256:
                "Checked at load time when given (files in SHA256SUMS are always checked)."
            case .inputSize: "The square input's side in pixels (8 to 1024)."
            case .colorOrder: "rgb or bgr."
            case .mean: "3 numbers: input = (pixel - mean) x scale, the mean in color_order."
            case .scale: "A positive number, as above."
            case .labels: "gender: male or female per output; age: an Adience group label per output."
            case .ageValues: "age only: the age each output stands for (the age is the expected value)."
            case .crop:
                "aligned (5-point alignment), box (a square around the detector box) or trimmed-square (face-api.js's crop: the box with trim_top of its height cut off the top, padded with black to a centred square)."
            case .cropPadding:
                "aligned: padding around the landmark template (default 0.2); box: the margin each side (default 0.15); 0 to 1."
            case .temperature:
                "The calibration of the net's output, 0.05 to 20 (the presets carry their own: 2.15 gender, 2.75 age)."
            case .outputs:
                "A net with several named outputs, run once per face: a list of {name, kind, labels}, kind gender-probabilities (labels male and female in the net's order) or age-years (one number, an age)."
            case .ageSpread:
                "For an age-years output: the standard deviation of ln(true age + 1) - ln(net's age + 1), 0.01 to 3; the age group's confidence is the share of that spread inside the group."
            case .trimTop: "For crop: trimmed-square, the share of the box's height cut off the top (0 to 0.9)."
            case .genderWeight:
                "Where a model set fuses the gender of several nets, this net's weight on its log-odds (-20 to 20)."
            }
        }
    }
    typealias Key = Field

    private struct OutputEntry: Decodable {
        enum Key: String, CodingKey, CaseIterable { case name, kind, labels }
        var name: String
        var kind: String
        var labels: [String]?

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(Key.self)
            let c = try decoder.container(keyedBy: Key.self)
            name = try c.decode(String.self, forKey: .name)
            kind = try c.decode(String.self, forKey: .kind)
            labels = try c.decodeIfPresent([String].self, forKey: .labels)
        }
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Key.self)
        let c = try decoder.container(keyedBy: Key.self)
        let presetName = try c.decodeIfPresent(String.self, forKey: .preset) ?? Preset.dlibCydral.rawValue
        guard let preset = Preset(rawValue: presetName) else {
            throw ConfigurationError(
                key: c.path(.preset),
                problem:
                    "'\(presetName)' is not a preset; expected \(Preset.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.init(preset: preset)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        weights = try c.decodeIfPresent(String.self, forKey: .weights)
        modelSHA256 = try c.decodeIfPresent(String.self, forKey: .modelSHA256)
        weightsSHA256 = try c.decodeIfPresent(String.self, forKey: .weightsSHA256)
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize)
        if let inputSize, !(8...1024).contains(inputSize) {
            throw ConfigurationError(
                .outOfRange, key: c.path(.inputSize), problem: "\(inputSize) is out of range; expected 8 to 1024")
        }
        if let order = try c.decodeIfPresent(String.self, forKey: .colorOrder) {
            guard let parsed = ColorOrder(rawValue: order.lowercased()) else {
                throw ConfigurationError(key: c.path(.colorOrder), problem: "'\(order)' is not rgb or bgr")
            }
            colorOrder = parsed
        }
        mean = try c.decodeIfPresent([Double].self, forKey: .mean)
        if let mean, mean.count != 3 {
            throw ConfigurationError(key: c.path(.mean), problem: "expected 3 numbers, found \(mean.count)")
        }
        scale = try c.decodeIfPresent(Double.self, forKey: .scale)
        if let scale, !(scale > 0) {
            throw ConfigurationError(key: c.path(.scale), problem: "\(scale) must be positive")
        }
        labels = try c.decodeIfPresent([String].self, forKey: .labels)
        ageValues = try c.decodeIfPresent([Double].self, forKey: .ageValues)
        crop = try c.decodeIfPresent(String.self, forKey: .crop)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        if let temperature, !(0.05...20).contains(temperature) {
            throw ConfigurationError(
                .outOfRange, key: c.path(.temperature), problem: "\(temperature) is out of range; expected 0.05 to 20")
        }
        if let entries = try c.decodeIfPresent([OutputEntry].self, forKey: .outputs) {
            guard !entries.isEmpty else {
                throw ConfigurationError(key: c.path(.outputs), problem: "is empty; name at least one output")
            }
            outputs = try entries.map { entry in
                switch entry.kind {
                case "age-years": return ClassifierOutput(name: entry.name, kind: .ageYears)
                case "gender-probabilities":
                    guard let labels = entry.labels, labels.count == 2,
                        Set(labels.map { $0.lowercased() }) == ["male", "female"]
                    else {
                        throw ConfigurationError(
                            key: c.path(.outputs),
                            problem: "output \(entry.name): labels must be male and female, in the net's order")
                    }
                    return ClassifierOutput(
                        name: entry.name, kind: .genderProbabilities(labels: labels.map { $0.lowercased() }))
                default:
                    throw ConfigurationError(
                        key: c.path(.outputs),
                        problem:
                            "output \(entry.name): kind '\(entry.kind)'; expected gender-probabilities or age-years")
                }
            }
        }
        for (key, value, range) in [
            (Key.ageSpread, try c.decodeIfPresent(Double.self, forKey: .ageSpread), 0.01...3.0),
            (.trimTop, try c.decodeIfPresent(Double.self, forKey: .trimTop), 0.0...0.9),
            (.genderWeight, try c.decodeIfPresent(Double.self, forKey: .genderWeight), -20.0...20.0),
        ] {
            if let value, !range.contains(value) {
                throw ConfigurationError(
                    .outOfRange, key: c.path(key),
                    problem: "\(value) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
            }
        }
        ageSpread = try c.decodeIfPresent(Double.self, forKey: .ageSpread)
        trimTop = try c.decodeIfPresent(Double.self, forKey: .trimTop)
        genderWeight = try c.decodeIfPresent(Double.self, forKey: .genderWeight)
        cropPadding = try c.decodeIfPresent(Double.self, forKey: .cropPadding)
        if let cropPadding, !(0...1).contains(cropPadding) {
            throw ConfigurationError(
                .outOfRange, key: c.path(.cropPadding), problem: "\(cropPadding) is out of range; expected 0 to 1")
        }
    }
}
