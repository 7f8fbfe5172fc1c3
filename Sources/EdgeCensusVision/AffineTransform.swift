/// A 2-D affine map `p' = A p + t`, stored row-major as [a, b, tx, c, d, ty].
public struct AffineTransform: Sendable, Equatable {
    public var matrix: [Double]

    public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
        matrix = [a, b, tx, c, d, ty]
    }

    public static let identity = AffineTransform(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    public func apply(_ p: Point) -> Point {
        Point(x: matrix[0] * p.x + matrix[1] * p.y + matrix[2], y: matrix[3] * p.x + matrix[4] * p.y + matrix[5])
    }

    /// `self` after `other`: p ↦ self(other(p)).
    public func composed(after other: AffineTransform) -> AffineTransform {
        let (a, b, tx, c, d, ty) = (matrix[0], matrix[1], matrix[2], matrix[3], matrix[4], matrix[5])
        let m = other.matrix
        return AffineTransform(
            a: a * m[0] + b * m[3], b: a * m[1] + b * m[4], tx: a * m[2] + b * m[5] + tx,
            c: c * m[0] + d * m[3], d: c * m[1] + d * m[4], ty: c * m[2] + d * m[5] + ty)
    }

    /// How much the map scales lengths (the square root of |det A|).
    public var scale: Double { (abs(matrix[0] * matrix[4] - matrix[1] * matrix[3])).squareRoot() }

    /// The least-squares similarity (rotation, uniform scale, translation; no reflection)
    /// taking `from[i]` to `to[i]`. Closed form of Umeyama's method in two dimensions.
    public static func similarity(from: [Point], to: [Point]) -> AffineTransform {
        precondition(from.count == to.count && !from.isEmpty, "point lists must match and not be empty")
        let n = Double(from.count)
        let fromMean = Point(x: from.map(\.x).reduce(0, +) / n, y: from.map(\.y).reduce(0, +) / n)
        let toMean = Point(x: to.map(\.x).reduce(0, +) / n, y: to.map(\.y).reduce(0, +) / n)
        var dot = 0.0, cross = 0.0, norm = 0.0
        for (p, q) in zip(from, to) {
            let px = p.x - fromMean.x, py = p.y - fromMean.y
            let qx = q.x - toMean.x, qy = q.y - toMean.y
            dot += px * qx + py * qy
            cross += px * qy - py * qx
            norm += px * px + py * py
        }
        guard norm > 0 else {
            return AffineTransform(a: 1, b: 0, tx: toMean.x - fromMean.x, c: 0, d: 1, ty: toMean.y - fromMean.y)
        }
        let a = dot / norm, b = cross / norm
        return AffineTransform(
            a: a, b: -b, tx: toMean.x - (a * fromMean.x - b * fromMean.y),
            c: b, d: a, ty: toMean.y - (b * fromMean.x + a * fromMean.y))
    }
}
