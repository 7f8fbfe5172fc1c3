/// Cuts the part of an image a classifier looks at, in memory only.
public enum FaceChip {
    /// dlib's mean 5-point face (right eye outer/inner, left eye outer/inner, nose)
    /// in a unit square, from `get_face_chip_details`.
    static let fivePointTemplate: [Point] = [
        Point(x: 0.8595674595992, y: 0.2134981538014),
        Point(x: 0.6460604764104, y: 0.2289674387677),
        Point(x: 0.1205750620789, y: 0.2137274526848),
        Point(x: 0.3340850613712, y: 0.2290642403242),
        Point(x: 0.4901123135679, y: 0.6277975316475),
    ]

    /// The dlib five points a detector's own five landmarks stand for. `template` is
    /// where the detector's landmarks sit in dlib's unit face (on average, fitted on
    /// faces where both were found); the similarity that best maps it onto the
    /// face's landmarks maps dlib's template too.
    public static func fivePoints(fromDetector landmarks: [Point], template: [Point]) -> [Point] {
        let map = AffineTransform.similarity(from: template, to: landmarks)
        return fivePointTemplate.map { map.apply($0) }
    }

    /// The map from chip pixels to image pixels that aligns the five landmarks with the template.
    public static func alignment(landmarks: [Point], size: Int, padding: Double) -> AffineTransform {
        precondition(landmarks.count == 5, "alignment takes the 5-point landmarks")
        let chipPoints = fivePointTemplate.map { p in
            Point(
                x: (padding + p.x) / (2 * padding + 1) * Double(size),
                y: (padding + p.y) / (2 * padding + 1) * Double(size))
        }
        return .similarity(from: chipPoints, to: landmarks)
    }

    /// The map from chip pixels to image pixels for a square around the box, `margin`
    /// of its longer side added on each side.
    public static func boxCrop(box: Box, size: Int, margin: Double) -> AffineTransform {
        let side = max(box.width, box.height) * (1 + 2 * margin)
        let scale = side / Double(size)
        let centre = box.centre
        // Chip pixel centres (0.5 .. size-0.5) span the square.
        return AffineTransform(
            a: scale, b: 0, tx: centre.x - side / 2 + scale * 0.5 - 0.5,
            c: 0, d: scale, ty: centre.y - side / 2 + scale * 0.5 - 0.5)
    }

    /// Samples a `width`x`height` chip through `chipToImage`. When the chip is much
    /// smaller than the face, it is sampled at a whole multiple of its size first and
    /// then area-averaged down, so that small chips are not aliased.
    public static func extract(from image: Image, chipToImage: AffineTransform, width: Int, height: Int)
        throws(VisionError) -> Image
    {
        let factor = max(1, Int(chipToImage.scale.rounded(.down)))
        guard factor > 1 else { return try image.warped(by: chipToImage, width: width, height: height) }
        // Intermediate pixel c' covers chip pixel c = (c' - (f-1)/2) / f.
        let f = Double(factor)
        let upscaled = AffineTransform(a: 1 / f, b: 0, tx: -(f - 1) / (2 * f), c: 0, d: 1 / f, ty: -(f - 1) / (2 * f))
        let fine = try image.warped(
            by: chipToImage.composed(after: upscaled), width: width * factor, height: height * factor)
        return try fine.resized(width: width, height: height, smoothing: true)
    }

    /// The chip a classifier sees: its crop of the face (`box`; `landmarks` for aligned
    /// crops) at its input size.
    public static func cut(for spec: ClassifierSpec, box: Box, landmarks: [Point]?, from image: Image)
        throws(VisionError) -> Image
    {
        switch spec.crop {
        case .aligned(let padding):
            guard let landmarks else {
                throw .invalidSpecification(key: "crop", reason: "aligned crops need landmarks")
            }
            let chipToImage = alignment(landmarks: landmarks, size: spec.inputWidth, padding: padding)
            return try extract(from: image, chipToImage: chipToImage, width: spec.inputWidth, height: spec.inputHeight)
        case .box(let margin):
            let chipToImage = boxCrop(box: box, size: spec.inputWidth, margin: margin)
            return try extract(from: image, chipToImage: chipToImage, width: spec.inputWidth, height: spec.inputHeight)
        case .trimmedSquare(let trimTop):
            return try trimmedSquare(
                from: image, box: box, trimTop: trimTop, width: spec.inputWidth, height: spec.inputHeight)
        }
    }

    /// face-api.js's way: the box with `trimTop` of its height cut off the top, padded
    /// to a square with black (centred), resized (bilinear) to `width`x`height`.
    /// Parts of the box outside the image are black too.
    public static func trimmedSquare(from image: Image, box: Box, trimTop: Double, width: Int, height: Int)
        throws(VisionError) -> Image
    {
        let top = box.y + trimTop * box.height
        let regionWidth = max(1, Int(box.width.rounded())),
            regionHeight = max(1, Int((box.height * (1 - trimTop)).rounded()))
        let region = try image.warped(
            by: AffineTransform(a: 1, b: 0, tx: box.x, c: 0, d: 1, ty: top),
            width: regionWidth, height: regionHeight)
        let side = max(regionWidth, regionHeight)
        let left = (side - regionWidth) / 2, above = (side - regionHeight) / 2
        return try region.padded(
            top: above, bottom: side - regionHeight - above, left: left, right: side - regionWidth - left,
            replicatingEdges: false
        )
        .resized(width: width, height: height)
    }
}
