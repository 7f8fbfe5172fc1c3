/// A point in image coordinates (pixels; x to the right, y down).
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A rectangle in image coordinates with real-valued edges.
public struct Box: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var centre: Point { Point(x: x + width / 2, y: y + height / 2) }
    public var area: Double { max(0, width) * max(0, height) }

    /// The part of the box inside `0..<width, 0..<height` (empty boxes have zero size).
    public func clipped(width imageWidth: Double, height imageHeight: Double) -> Box {
        let left = min(max(x, 0), imageWidth), top = min(max(y, 0), imageHeight)
        let right = min(max(x + width, 0), imageWidth), bottom = min(max(y + height, 0), imageHeight)
        return Box(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Intersection over union, 0 when the boxes do not overlap.
    public func intersectionOverUnion(_ other: Box) -> Double {
        let intersection = intersection(other).area
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }

    /// The part both boxes cover (zero-sized when they do not overlap).
    public func intersection(_ other: Box) -> Box {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(x + width, other.x + other.width), bottom = min(y + height, other.y + other.height)
        return Box(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }

    /// The intersection's share of the smaller box's area: 1 when one box holds the other.
    public func overlapOfSmaller(_ other: Box) -> Double {
        let intersection = intersection(other).area
        let smaller = min(area, other.area)
        return smaller > 0 ? intersection / smaller : 0
    }

    /// The box rounded outwards to whole pixels.
    public var pixelBox: PixelBox {
        let left = Int(x.rounded(.down)), top = Int(y.rounded(.down))
        return PixelBox(
            x: left, y: top, width: Int((x + width).rounded(.up)) - left,
            height: Int((y + height).rounded(.up)) - top)
    }
}

/// A rectangle in whole pixels, as reported to users.
public struct PixelBox: Sendable, Equatable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}
