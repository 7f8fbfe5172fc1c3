import EdgeCensusVision
import Testing

@Suite("Geometry")
struct GeometryTests {
    @Test("the similarity fit recovers a known rotation, scale and shift")
    func similarityFit() {
        let truth = AffineTransform(a: 0.8, b: -0.6, tx: 12, c: 0.6, d: 0.8, ty: -3)  // scale 1, 36.87°
        let from = [Point(x: 0, y: 0), Point(x: 10, y: 0), Point(x: 3, y: 7), Point(x: -4, y: 2)]
        let fitted = AffineTransform.similarity(from: from, to: from.map(truth.apply))
        for (a, b) in zip(fitted.matrix, truth.matrix) { #expect(abs(a - b) < 1e-9) }
    }

    @Test("boxes clip to the image and measure their overlap")
    func boxes() {
        let box = Box(x: -10, y: 5, width: 30, height: 10)
        #expect(box.clipped(width: 15, height: 100) == Box(x: 0, y: 5, width: 15, height: 10))
        let other = Box(x: 0, y: 5, width: 10, height: 10)
        #expect(abs(box.intersectionOverUnion(other) - 1.0 / 3) < 1e-12)
        #expect(box.overlapOfSmaller(other) == 1)
        #expect(Box(x: 0.4, y: 0.6, width: 10.2, height: 5).pixelBox == PixelBox(x: 0, y: 0, width: 11, height: 6))
    }

    @Test("composition applies the right-hand map first")
    func composition() {
        let shift = AffineTransform(a: 1, b: 0, tx: 5, c: 0, d: 1, ty: 0)
        let double = AffineTransform(a: 2, b: 0, tx: 0, c: 0, d: 2, ty: 0)
        #expect(double.composed(after: shift).apply(Point(x: 1, y: 1)) == Point(x: 12, y: 2))
    }
}
