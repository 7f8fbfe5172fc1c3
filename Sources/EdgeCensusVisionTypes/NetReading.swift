/// What one net said of one face, before calibration.
public struct NetReading: Sendable, Equatable {
    /// Probabilities in the order of the net's gender labels.
    public var gender: [Double]?
    /// A distribution net's class probabilities (`ageValues` or Adience labels).
    public var ageProbabilities: [Double]?
    /// A regression net's age, in years.
    public var ageYears: Double?

    public init(gender: [Double]? = nil, ageProbabilities: [Double]? = nil, ageYears: Double? = nil) {
        self.gender = gender
        self.ageProbabilities = ageProbabilities
        self.ageYears = ageYears
    }

    /// The mean of two readings of the same net (a chip and its mirror image).
    public func averaged(with other: NetReading) -> NetReading {
        func mean(_ a: [Double]?, _ b: [Double]?) -> [Double]? {
            guard let a, let b else { return a ?? b }
            return zip(a, b).map { ($0 + $1) / 2 }
        }
        let age: Double? =
            switch (ageYears, other.ageYears) {
            case (let a?, let b?): (a + b) / 2
            case (let a, let b): a ?? b
            }
        return NetReading(
            gender: mean(gender, other.gender), ageProbabilities: mean(ageProbabilities, other.ageProbabilities),
            ageYears: age)
    }
}
