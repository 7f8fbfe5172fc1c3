import Foundation

/// dlib's face landmark predictor (Kazemi & Sullivan's ensemble of regression
/// trees), read from dlib's own `.dat` file and run in Swift. EdgeCensus uses the
/// 5-point model to align a face the way the dlib/Cydral age and gender nets were
/// trained to see it.
public struct ShapePredictor: Sendable {
    /// One cascade level: the pixels it samples and the trees it sums.
    struct Cascade: Sendable {
        /// For each sampled pixel: the landmark it is anchored to and its offset from it
        /// (in the normalised shape space of the initial shape).
        var anchors: [Int]
        var deltas: [(x: Float, y: Float)]
        /// All trees' splits, tree after tree: `splitsPerTree` each.
        var splitFirst: [Int32], splitSecond: [Int32], splitThreshold: [Float]
        /// All trees' leaves, tree after tree: `leavesPerTree` vectors of `shapeLength` each.
        var leafValues: [Float]
        var treeCount: Int, splitsPerTree: Int, leavesPerTree: Int
    }

    /// The mean shape, (x0, y0, x1, y1, ...) in box-relative coordinates (0..1).
    let initialShape: [Float]
    let cascades: [Cascade]

    public var landmarkCount: Int { initialShape.count / 2 }

    /// Reads a dlib `shape_predictor` file.
    public init(contentsOf path: String) throws(VisionError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .fileUnreadable(path: path, reason: "cannot read the file")
        }
        var reader = DlibDeserializer(bytes: [UInt8](data), path: path)
        let version = try reader.integer()
        guard version == 1 else {
            throw .malformedModel(path: path, reason: "shape_predictor version \(version), expected 1")
        }
        let initialShape = try reader.floatMatrix()
        guard !initialShape.isEmpty, initialShape.count % 2 == 0 else {
            throw .malformedModel(path: path, reason: "initial shape of \(initialShape.count) values")
        }
        let shapeLength = initialShape.count
        // The trees go straight into each cascade's flat arrays, as they are read: no
        // array per tree or per leaf (there are 112 500 leaves in the 5-point model).
        var cascades = try reader.array { (r: inout DlibDeserializer) throws(VisionError) -> Cascade in
            let treeCount = try r.count()
            var cascade = Cascade(
                anchors: [], deltas: [], splitFirst: [], splitSecond: [], splitThreshold: [],
                leafValues: [], treeCount: treeCount, splitsPerTree: 0, leavesPerTree: 0)
            for tree in 0..<treeCount {
                let splitCount = try r.count()
                if tree == 0 {
                    cascade.splitsPerTree = splitCount
                    cascade.leavesPerTree = splitCount + 1
                    cascade.splitFirst.reserveCapacity(treeCount * splitCount)
                    cascade.splitSecond.reserveCapacity(treeCount * splitCount)
                    cascade.splitThreshold.reserveCapacity(treeCount * splitCount)
                    cascade.leafValues.reserveCapacity(treeCount * (splitCount + 1) * shapeLength)
                }
                guard splitCount == cascade.splitsPerTree else { throw Self.unexpectedTree(path) }
                for _ in 0..<splitCount {
                    let first = try r.integer(), second = try r.integer()
                    guard (0...Int64(Int32.max)).contains(first), (0...Int64(Int32.max)).contains(second) else {
                        throw Self.unexpectedTree(path)
                    }
                    cascade.splitFirst.append(Int32(first))
                    cascade.splitSecond.append(Int32(second))
                    cascade.splitThreshold.append(try r.float())
                }
                guard try r.count() == cascade.leavesPerTree else { throw Self.unexpectedTree(path) }
                for _ in 0..<cascade.leavesPerTree {
                    guard try r.floatMatrix(into: &cascade.leafValues) == shapeLength else {
                        throw Self.unexpectedTree(path)
                    }
                }
            }
            return cascade
        }
        let anchors = try reader.array { (r: inout DlibDeserializer) throws(VisionError) in
            try r.array { (r: inout DlibDeserializer) throws(VisionError) in Int(try r.integer()) }
        }
        let deltas = try reader.array { (r: inout DlibDeserializer) throws(VisionError) in
            try r.array { (r: inout DlibDeserializer) throws(VisionError) -> (x: Float, y: Float) in
                (try r.float(), try r.float())
            }
        }
        guard reader.isAtEnd else {
            throw .malformedModel(path: path, reason: "unexpected bytes after the model at offset \(reader.offset)")
        }
        guard cascades.count == anchors.count, anchors.count == deltas.count else {
            throw .malformedModel(
                path: path, reason: "cascade counts disagree (\(cascades.count), \(anchors.count), \(deltas.count))")
        }
        for level in cascades.indices {
            let pixelCount = deltas[level].count
            guard anchors[level].count == pixelCount,
                anchors[level].allSatisfy({ $0 >= 0 && $0 < shapeLength / 2 })
            else {
                throw .malformedModel(path: path, reason: "cascade \(level) has bad pixel anchors")
            }
            guard cascades[level].splitFirst.allSatisfy({ $0 < pixelCount }),
                cascades[level].splitSecond.allSatisfy({ $0 < pixelCount })
            else {
                throw .malformedModel(path: path, reason: "cascade \(level) holds a tree of an unexpected shape")
            }
            cascades[level].anchors = anchors[level]
            cascades[level].deltas = deltas[level]
        }
        self.initialShape = initialShape
        self.cascades = cascades
    }

    private static func unexpectedTree(_ path: String) -> VisionError {
        .malformedModel(path: path, reason: "a cascade holds a tree of an unexpected shape")
    }

    /// Predicts the landmarks of the face inside `box` (image coordinates).
    public func landmarks(in image: Image, box: Box) -> [Point] {
        // dlib's rectangles are inclusive: right = left + width - 1.
        let left = box.x.rounded(), top = box.y.rounded()
        let spanX = (box.width.rounded() - 1), spanY = (box.height.rounded() - 1)
        let shapeLength = initialShape.count
        var current = initialShape
        var features: [Float] = []
        let width = image.width, height = image.height, stride = image.stride, channels = image.channels
        let initialPoints = points(initialShape)
        image.withPixels { pixels in
            for cascade in cascades {
                // Map the sampled pixels from the initial shape onto the current one.
                let similarity = AffineTransform.similarity(from: initialPoints, to: points(current)).matrix
                let (a, b, c, d) = (
                    Float(similarity[0]), Float(similarity[1]), Float(similarity[3]), Float(similarity[4])
                )
                features = [Float](repeating: 0, count: cascade.deltas.count)
                for index in cascade.deltas.indices {
                    let delta = cascade.deltas[index], anchor = cascade.anchors[index]
                    let nx = a * delta.x + b * delta.y + current[2 * anchor]
                    let ny = c * delta.x + d * delta.y + current[2 * anchor + 1]
                    let px = Int((left + Double(nx) * spanX + 0.5).rounded(.down))
                    let py = Int((top + Double(ny) * spanY + 0.5).rounded(.down))
                    guard px >= 0, py >= 0, px < width, py < height else { continue }
                    let offset = py * stride + px * channels
                    features[index] =
                        channels == 3
                        ? Float((Int(pixels[offset]) + Int(pixels[offset + 1]) + Int(pixels[offset + 2])) / 3)
                        : Float(pixels[offset])
                }
                for tree in 0..<cascade.treeCount {
                    let splitBase = tree * cascade.splitsPerTree
                    var node = 0
                    while node < cascade.splitsPerTree {
                        let split = splitBase + node
                        let difference =
                            features[Int(cascade.splitFirst[split])] - features[Int(cascade.splitSecond[split])]
                        node = difference > cascade.splitThreshold[split] ? 2 * node + 1 : 2 * node + 2
                    }
                    let leafBase = (tree * cascade.leavesPerTree + node - cascade.splitsPerTree) * shapeLength
                    for k in 0..<shapeLength { current[k] += cascade.leafValues[leafBase + k] }
                }
            }
        }
        return points(current).map { Point(x: left + $0.x * spanX, y: top + $0.y * spanY) }
    }

    private func points(_ shape: [Float]) -> [Point] {
        stride(from: 0, to: shape.count, by: 2).map { Point(x: Double(shape[$0]), y: Double(shape[$0 + 1])) }
    }
}
