/// Answers with their confidence and whether each was right: how accuracy trades
/// against coverage, and how well the confidence is calibrated.
public struct SelectiveScore: Sendable {
    public private(set) var answers: [(confidence: Double, right: Bool)] = []

    public init() {}

    public mutating func add(confidence: Double, right: Bool) {
        answers.append((confidence, right))
    }

    public var count: Int { answers.count }

    /// Accuracy over all answers.
    public var accuracy: Double? { accuracy(of: answers) }

    /// Accuracy and coverage of the answers at or above a confidence threshold.
    public func decided(atLeast threshold: Double) -> (accuracy: Double?, coverage: Double?) {
        let kept = answers.filter { $0.confidence >= threshold }
        return (accuracy(of: kept), answers.isEmpty ? nil : Double(kept.count) / Double(answers.count))
    }

    /// Accuracy of the most confident `coverage` share of the answers (ties broken by order).
    public func accuracy(atCoverage coverage: Double) -> Double? {
        let count = Int((coverage * Double(answers.count)).rounded())
        guard count > 0 else { return nil }
        let sorted = answers.enumerated().sorted {
            $0.element.confidence != $1.element.confidence
                ? $0.element.confidence > $1.element.confidence : $0.offset < $1.offset
        }
        return accuracy(of: sorted.prefix(count).map(\.element))
    }

    /// One row of a reliability table: the answers whose confidence falls in `range`.
    public struct Bin: Sendable {
        public var range: ClosedRange<Double>
        public var count: Int
        public var meanConfidence: Double
        public var accuracy: Double
    }

    /// The reliability table over `bins` equal-width bins from `lowest` to 1 (0.5 for
    /// a two-way answer); empty bins are left out.
    public func reliability(bins: Int = 10, lowest: Double = 0) -> [Bin] {
        let width = (1 - lowest) / Double(bins)
        var table: [Bin] = []
        for index in 0..<bins {
            let low = lowest + Double(index) * width, high = index == bins - 1 ? 1 : low + width
            let members = answers.filter {
                $0.confidence >= low && ($0.confidence < high || (index == bins - 1 && $0.confidence <= high))
            }
            guard !members.isEmpty else { continue }
            table.append(
                Bin(
                    range: low...high, count: members.count,
                    meanConfidence: members.map(\.confidence).reduce(0, +) / Double(members.count),
                    accuracy: accuracy(of: members) ?? 0))
        }
        return table
    }

    /// Expected calibration error: the answer-weighted mean gap between confidence
    /// and accuracy over the reliability table's bins.
    public func expectedCalibrationError(bins: Int = 10, lowest: Double = 0) -> Double? {
        guard !answers.isEmpty else { return nil }
        let total = Double(answers.count)
        return reliability(bins: bins, lowest: lowest).reduce(0) {
            $0 + Double($1.count) / total * abs($1.meanConfidence - $1.accuracy)
        }
    }

    private func accuracy(of answers: [(confidence: Double, right: Bool)]) -> Double? {
        answers.isEmpty ? nil : Double(answers.filter(\.right).count) / Double(answers.count)
    }
}
