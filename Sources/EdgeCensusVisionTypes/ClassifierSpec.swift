/// How a face is cut out of the image before a classifier sees it.
public enum FaceCrop: Sendable, Equatable {
    /// Aligned with the 5-point landmarks the way dlib's `get_face_chip_details`
    /// does, with `padding` around the landmark template (0.2 for the dlib nets).
    case aligned(padding: Double)
    /// A square around the detector's box, `margin` of the box size added on each side.
    case box(margin: Double)
    /// face-api.js's crop: the detector's box with `trimTop` of its height cut off the
    /// top, padded with black to a centred square.
    case trimmedSquare(trimTop: Double)
}

/// One named output of a net that gives several, run once per face (face-api.js's
/// age and gender net gives `age` and `gender`).
public struct ClassifierOutput: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// One probability per label, each "male" or "female", in the net's order.
        case genderProbabilities(labels: [String])
        /// One number: an age in years (a regression, not a distribution).
        case ageYears
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// Everything needed to run a face classifier: which network, the input it expects,
/// and how to read its output. Presets describe the shipped nets; a user can write
/// their own to plug in another ONNX (or Caffe) gender or age classifier.
public struct ClassifierSpec: Sendable, Equatable {
    /// An `.onnx` file, or a Caffe `deploy.prototxt` (then `weights` names the `.caffemodel`).
    public var model: String
    public var weights: String?
    /// Expected SHA-256 of `model` / `weights`, for files not in the models manifest.
    public var modelSHA256: String?
    public var weightsSHA256: String?
    public var inputWidth: Int
    public var inputHeight: Int
    public var colorOrder: ColorOrder
    /// Per-channel mean, in `colorOrder`, subtracted before `scale` multiplies.
    public var mean: [Double]
    public var scale: Double
    /// Gender: one of "male"/"female" per output. Age: Adience group labels such as
    /// "(25-32)" per output (the age reported is the most likely group's middle).
    public var labels: [String]?
    /// Age only: the age each output stands for; the age reported is the expected value.
    public var ageValues: [Double]?
    public var crop: FaceCrop
    /// Temperature scaling of the net's output: probabilities are raised to 1/T and
    /// renormalised (T > 1 softens an overconfident net), so that a confidence of
    /// 0.9 is right about 9 times in 10. Fitted by cross-validation for the shipped nets.
    public var temperature: Double
    /// A net with several named outputs (run once per face); empty for a net with one
    /// output, read through `labels` or `ageValues`.
    public var outputs: [ClassifierOutput]
    /// For an `ageYears` output: the spread of the true age around the net's, as the
    /// standard deviation of ln(true + 1) − ln(net + 1), fitted by cross-validation.
    /// The age's group confidence is the share of that spread inside the group.
    public var ageSpread: Double?
    /// Where a set's gender comes from two nets: this net's weight on its raw
    /// log-odds (male over female) in the fused log-odds, fitted by cross-validation.
    /// Nil: the net's calibrated log-odds alone (weight 1 / temperature).
    public var genderWeight: Double?

    public init(
        model: String, weights: String? = nil, modelSHA256: String? = nil, weightsSHA256: String? = nil,
        inputWidth: Int, inputHeight: Int, colorOrder: ColorOrder, mean: [Double], scale: Double,
        labels: [String]? = nil, ageValues: [Double]? = nil, crop: FaceCrop, temperature: Double = 1,
        outputs: [ClassifierOutput] = [], ageSpread: Double? = nil, genderWeight: Double? = nil
    ) {
        self.model = model
        self.weights = weights
        self.modelSHA256 = modelSHA256
        self.weightsSHA256 = weightsSHA256
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.colorOrder = colorOrder
        self.mean = mean
        self.scale = scale
        self.labels = labels
        self.ageValues = ageValues
        self.crop = crop
        self.temperature = temperature
        self.outputs = outputs
        self.ageSpread = ageSpread
        self.genderWeight = genderWeight
    }

    /// What the net says of a face: a gender, an age, or both.
    public var gives: (gender: Bool, age: Bool) {
        if !outputs.isEmpty {
            return (
                outputs.contains { if case .genderProbabilities = $0.kind { true } else { false } },
                outputs.contains { $0.kind == .ageYears }
            )
        }
        if ageValues != nil { return (false, true) }
        let genders = (labels ?? []).compactMap { Gender(rawValue: $0.lowercased()) }
        return genders.count == labels?.count && !genders.isEmpty ? (true, false) : (false, true)
    }

    private static let dlibMean = [122.782, 117.001, 104.298]
    private static let leviHassnerMeanBGR = [78.4263, 87.7689, 114.8958]

    /// The shipped nets' temperatures: the median over the folds of a 5-fold
    /// cross-validation on the development faces (`Tests/Tuning/cross-validate.py`).
    /// Measured: the gender net's expected calibration error falls from 0.114 ± 0.032
    /// to 0.076 ± 0.015 on the held-out folds; the age net's (on its Adience group)
    /// from 0.363 ± 0.057 to 0.201 ± 0.037.
    public static let dlibGenderTemperature = 2.15
    public static let dlibAgeTemperature = 2.75

    /// dlib/Cydral gender net: 32x32 aligned chip, RGB, softmax over [female, male].
    public static let dlibGender = ClassifierSpec(
        model: "dlib-cydral/gender-v1-opencv.onnx", inputWidth: 32, inputHeight: 32, colorOrder: .rgb,
        mean: dlibMean, scale: 1.0 / 256, labels: ["female", "male"], crop: .aligned(padding: 0.2),
        temperature: dlibGenderTemperature)

    /// dlib/Cydral age net: 64x64 aligned chip, RGB, softmax over the ages 0..80
    /// (age 0 weighted 0.25, as the upstream package does).
    public static let dlibAge = ClassifierSpec(
        model: "dlib-cydral/age-v1-opencv.onnx", inputWidth: 64, inputHeight: 64, colorOrder: .rgb,
        mean: dlibMean, scale: 1.0 / 256, ageValues: [0.25] + (1...80).map(Double.init), crop: .aligned(padding: 0.2),
        temperature: dlibAgeTemperature)

    /// Levi & Hassner's gender_net: 227x227 BGR, order [male, female]. Their weights
    /// are not shipped: `weights` is the user's `gender_net.caffemodel`.
    public static func leviHassnerGender(weights: String) -> ClassifierSpec {
        ClassifierSpec(
            model: "levi-hassner/gender_deploy.prototxt", weights: weights, inputWidth: 227,
            inputHeight: 227, colorOrder: .bgr, mean: leviHassnerMeanBGR, scale: 1,
            labels: ["male", "female"], crop: .box(margin: 0.15))
    }

    /// Levi & Hassner's age_net: 227x227 BGR, the eight Adience groups.
    public static func leviHassnerAge(weights: String) -> ClassifierSpec {
        ClassifierSpec(
            model: "levi-hassner/age_deploy.prototxt", weights: weights, inputWidth: 227,
            inputHeight: 227, colorOrder: .bgr, mean: leviHassnerMeanBGR, scale: 1,
            labels: AgeGroup.allCases.map(\.label), crop: .box(margin: 0.15))
    }
}
