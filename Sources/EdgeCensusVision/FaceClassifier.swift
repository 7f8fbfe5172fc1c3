import Foundation

/// Runs one classifier network on face chips and returns its class probabilities.
public final class FaceClassifier {
    public let spec: ClassifierSpec
    private let network: NeuralNetwork

    /// Seconds spent in the net's forward passes so far.
    public var forwardSeconds: Double { network.forwardSeconds }
    /// Forward passes run so far.
    public var forwardCount: Int { network.forwardCount }

    init(spec: ClassifierSpec, network: NeuralNetwork) {
        self.spec = spec
        self.network = network
    }

    /// Loads the network a spec names (relative paths resolve against the models directory).
    public static func load(_ spec: ClassifierSpec, from models: ModelDirectory, role: String) throws(VisionError)
        -> FaceClassifier
    {
        guard spec.inputWidth > 0, spec.inputHeight > 0 else {
            throw .invalidSpecification(
                key: "\(role).input_size", reason: "must be positive, got \(spec.inputWidth)x\(spec.inputHeight)")
        }
        guard spec.inputWidth == spec.inputHeight else {
            throw .invalidSpecification(
                key: "\(role).input_size", reason: "face crops are square: give equal width and height")
        }
        guard spec.mean.count == 3 else {
            throw .invalidSpecification(key: "\(role).mean", reason: "needs 3 values, got \(spec.mean.count)")
        }
        let model = try models.verifiedFile(spec.model, role: "\(role) model", expectedSHA256: spec.modelSHA256)
        let network: NeuralNetwork
        if model.lowercased().hasSuffix(".onnx") {
            network = try .onnx(path: model)
        } else {
            guard let configuredWeights = spec.weights else {
                throw .invalidSpecification(
                    key: "\(role).weights",
                    reason: "\(model) is a Caffe definition: name its .caffemodel in 'weights'")
            }
            let weights = try models.verifiedFile(
                configuredWeights, role: "\(role) weights", expectedSHA256: spec.weightsSHA256)
            network = try .caffe(prototxt: model, weights: weights)
        }
        return FaceClassifier(spec: spec, network: network)
    }

    /// Class probabilities for a chip of the spec's input size; with `flipped`, the
    /// average over the chip and its mirror image.
    public func probabilities(for chip: Image, flipped: Image? = nil) throws(VisionError) -> [Double] {
        var result = try forward(chip)
        if let flipped {
            let mirrored = try forward(flipped)
            result = zip(result, mirrored).map { ($0 + $1) / 2 }
        }
        return result
    }

    /// What the net says of a chip, read by its spec: for a net with several outputs
    /// (`spec.outputs`), each one; for a one-output net, its probabilities as a gender
    /// or an age distribution. With `flipped`, averaged with the mirror image's.
    public func reading(for chip: Image, flipped: Image? = nil) throws(VisionError) -> NetReading {
        var result = try read(chip)
        if let flipped { result = result.averaged(with: try read(flipped)) }
        return result
    }

    private func read(_ chip: Image) throws(VisionError) -> NetReading {
        guard !spec.outputs.isEmpty else {
            let probabilities = try forward(chip)
            return spec.gives.gender ? NetReading(gender: probabilities) : NetReading(ageProbabilities: probabilities)
        }
        let blob = Blob(image: chip, order: spec.colorOrder, mean: spec.mean, scale: spec.scale)
        let values = try network.forward(blob, outputs: spec.outputs.map(\.name))
        var reading = NetReading()
        for (output, raw) in zip(spec.outputs, values) {
            let numbers = raw.map(Double.init)
            switch output.kind {
            case .ageYears:
                guard numbers.count == 1, let age = numbers.first, age.isFinite else {
                    throw .unexpectedOutput(
                        model: network.name, reason: "output \(output.name): \(numbers.count) values, one age expected")
                }
                reading.ageYears = age
            case .genderProbabilities(let labels):
                guard numbers.count == labels.count else {
                    throw .unexpectedOutput(
                        model: network.name,
                        reason: "output \(output.name): \(numbers.count) values for \(labels.count) labels")
                }
                reading.gender = Self.normalised(numbers)
            }
        }
        return reading
    }

    private func forward(_ chip: Image) throws(VisionError) -> [Double] {
        let blob = Blob(image: chip, order: spec.colorOrder, mean: spec.mean, scale: spec.scale)
        let output = try network.forward(blob).values.map(Double.init)
        let expected = spec.ageValues?.count ?? spec.labels?.count ?? output.count
        guard output.count == expected else {
            throw .unexpectedOutput(
                model: network.name, reason: "\(output.count) outputs, but the specification names \(expected)")
        }
        return Self.normalised(output)
    }

    /// Probabilities as they are; logits (a net without a softmax at the end) through one.
    static func normalised(_ output: [Double]) -> [Double] {
        let sum = output.reduce(0, +)
        if output.allSatisfy({ $0 >= 0 }) && abs(sum - 1) < 1e-3 { return output }
        let top = output.max() ?? 0
        let exponentials = output.map { exp($0 - top) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}

/// Gender from a classifier whose labels name "male" and "female".
public struct GenderReading: Sendable, Equatable {
    public var gender: Gender
    public var confidence: Double
    public init(gender: Gender, confidence: Double) {
        self.gender = gender
        self.confidence = confidence
    }
}

/// Age from a classifier: an expected value over per-class ages, or the most likely
/// Adience group.
public struct AgeReading: Sendable, Equatable {
    public var age: Double
    public var group: AgeGroup
    /// The probability that the age lies in `group`.
    public var confidence: Double
    public init(age: Double, group: AgeGroup, confidence: Double) {
        self.age = age
        self.group = group
        self.confidence = confidence
    }
}

/// How to read a classifier's probabilities as a gender or an age.
public enum ClassifierReading {
    public static func validateGender(_ spec: ClassifierSpec, role: String) throws(VisionError) -> [Gender] {
        let named = spec.outputs.lazy.compactMap { output -> [String]? in
            if case .genderProbabilities(let labels) = output.kind { labels } else { nil }
        }.first
        guard let labels = named ?? spec.labels, !labels.isEmpty else {
            throw .invalidSpecification(
                key: "\(role).labels", reason: "a gender classifier needs labels, e.g. [female, male]")
        }
        var genders: [Gender] = []
        for label in labels {
            guard let gender = Gender(rawValue: label.lowercased()) else {
                throw .invalidSpecification(key: "\(role).labels", reason: "'\(label)' is neither 'male' nor 'female'")
            }
            genders.append(gender)
        }
        guard Set(genders).count == 2 else {
            throw .invalidSpecification(key: "\(role).labels", reason: "must name both male and female")
        }
        return genders
    }

    public static func validateAge(_ spec: ClassifierSpec, role: String) throws(VisionError) {
        if spec.outputs.contains(where: { $0.kind == .ageYears }) {
            guard let spread = spec.ageSpread, spread > 0, spread.isFinite else {
                throw .invalidSpecification(
                    key: "\(role).age_spread", reason: "an age in years needs the spread of its error (above 0)")
            }
            return
        }
        switch (spec.ageValues, spec.labels) {
        case (.some(let values), nil) where !values.isEmpty:
            return
        case (nil, .some(let labels)) where !labels.isEmpty:
            for label in labels where AgeGroup(label: label) == nil {
                throw .invalidSpecification(
                    key: "\(role).labels",
                    reason:
                        "'\(label)' is not an Adience group (\(AgeGroup.allCases.map(\.label).joined(separator: " ")))")
            }
        default:
            throw .invalidSpecification(
                key: role,
                reason:
                    "an age classifier needs either age_values (one age per output) or labels (Adience groups), not both"
            )
        }
    }

    /// Probabilities raised to 1/temperature and renormalised (temperature scaling).
    public static func calibrated(_ probabilities: [Double], temperature: Double) -> [Double] {
        guard temperature != 1, temperature > 0 else { return probabilities }
        let logs = probabilities.map { log(max($0, 1e-12)) / temperature }
        let top = logs.max() ?? 0
        let exponentials = logs.map { exp($0 - top) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    public static func gender(from probabilities: [Double], labels: [Gender]) -> GenderReading {
        var male = 0.0, female = 0.0
        for (probability, label) in zip(probabilities, labels) {
            if label == .male { male += probability } else { female += probability }
        }
        return male >= female
            ? GenderReading(gender: .male, confidence: male) : GenderReading(gender: .female, confidence: female)
    }

    /// log(P(male) / P(female)), bounded so that a saturated net gives a finite value.
    public static func maleLogOdds(_ probabilities: [Double], labels: [Gender]) -> Double {
        var male = 0.0, female = 0.0
        for (probability, label) in zip(probabilities, labels) {
            if label == .male { male += probability } else { female += probability }
        }
        let floor = 1e-9
        return log(max(male, floor)) - log(max(female, floor))
    }

    /// The probabilities summed per Adience group (eight values).
    public static func groupProbabilities(_ probabilities: [Double], spec: ClassifierSpec) -> [Double] {
        var groups = [Double](repeating: 0, count: AgeGroup.allCases.count)
        if let values = spec.ageValues {
            for (probability, value) in zip(probabilities, values) {
                groups[AgeGroup(age: value).rawValue] += probability
            }
        } else {
            for (probability, label) in zip(probabilities, spec.labels ?? []) {
                if let group = AgeGroup(label: label) { groups[group.rawValue] += probability }
            }
        }
        return groups
    }

    /// A regression net's age with its error spread (`ClassifierSpec.ageSpread`): the
    /// true age is taken as log-normal around it, ln(true + 1) ~ N(ln(age + 1), spread²).
    /// Returns the age, its group and the probability mass of that spread in each
    /// group: the age's confidence is the mass in its own group, so an age near a
    /// group boundary, or from a net with a wide spread, is less sure.
    public static func age(years: Double, spread: Double) -> (reading: AgeReading, groups: [Double]) {
        let age = max(years, 0)
        let centre = log(age + 1)
        func below(_ boundary: Double) -> Double {
            guard boundary.isFinite else { return boundary < 0 ? 0 : 1 }
            return 0.5 * (1 + erf((log(max(boundary, 0) + 1) - centre) / (spread * 2.0.squareRoot())))
        }
        let groups = AgeGroup.allCases.map { group in
            let upper = AgeGroup(rawValue: group.rawValue + 1)?.lowerBoundary ?? .infinity
            return below(upper) - below(group.lowerBoundary)
        }
        let group = AgeGroup(age: age)
        return (AgeReading(age: age, group: group, confidence: groups[group.rawValue]), groups)
    }

    public static func age(from probabilities: [Double], spec: ClassifierSpec) -> AgeReading {
        if let values = spec.ageValues {
            let expected = zip(probabilities, values).reduce(0) { $0 + $1.0 * $1.1 }
            let group = AgeGroup(age: expected)
            // Probability mass of the classes whose age falls in the reported group.
            let inGroup = zip(probabilities, values).filter { AgeGroup(age: $0.1) == group }.reduce(0) { $0 + $1.0 }
            return AgeReading(age: expected, group: group, confidence: inGroup)
        }
        let groups = (spec.labels ?? []).compactMap(AgeGroup.init(label:))
        var best = 0
        for index in probabilities.indices where probabilities[index] > probabilities[best] { best = index }
        let group = groups[best]
        return AgeReading(age: group.midpoint, group: group, confidence: probabilities[best])
    }
}
