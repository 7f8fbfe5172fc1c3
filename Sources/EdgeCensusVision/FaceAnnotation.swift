/// Draws boxes and labels on a copy of an image: what the seed tutorial showed on
/// screen. Only for output a user asked for on the local command line.
public enum FaceAnnotation {
    static let maleColor = RGBColor(red: 40, green: 120, blue: 255)
    static let femaleColor = RGBColor(red: 235, green: 60, blue: 150)
    static let unknownColor = RGBColor(red: 200, green: 200, blue: 200)

    /// The text drawn above a face, e.g. "female 31 (25-32)", or "unknown 31 (25-32)",
    /// "female age unknown" when an answer was below its threshold.
    public static func label(for face: FaceObservation) -> String {
        let gender = face.gender?.rawValue ?? "unknown"
        guard let group = face.ageGroup else { return "\(gender) age unknown" }
        return "\(gender) \(Int(face.age.rounded())) \(group.label)"
    }

    /// A copy of the image with each face's box and label, and its landmarks when given.
    public static func annotated(_ image: Image, faces analyses: [FaceAnalysis]) throws(VisionError) -> Image {
        let canvas = try image.copy()
        let thickness = max(2, min(image.width, image.height) / 250)
        let scale = max(0.45, Double(min(image.width, image.height)) / 900)
        for analysis in analyses {
            let face = analysis.observation
            let color =
                switch face.gender {
                case .male: maleColor;
                case .female: femaleColor;
                case nil: unknownColor
                }
            canvas.drawRectangle(face.box, color: color, thickness: thickness)
            let textHeight = Int(scale * 30) + 8
            let y = face.box.y >= textHeight ? face.box.y - textHeight : face.box.y + face.box.height
            canvas.drawLabel(label(for: face), x: face.box.x, y: y, color: color, scale: scale)
            for point in analysis.landmarks ?? [] {
                canvas.drawDot(at: point, radius: thickness + 1, color: RGBColor(red: 60, green: 230, blue: 60))
            }
        }
        return canvas
    }
}
