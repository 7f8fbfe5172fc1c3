/// A face the detector found, before classification.
public struct DetectedFace: Sendable, Equatable {
    /// The box in image pixels, clipped to the image.
    public var box: Box
    public var confidence: Double
    /// The detector's own five landmarks, where it gives them (YuNet: eyes, nose tip,
    /// mouth corners), in image pixels.
    public var landmarks: [Point]?

    public init(box: Box, confidence: Double, landmarks: [Point]? = nil) {
        self.box = box
        self.confidence = confidence
        self.landmarks = landmarks
    }

    /// The same face in an image shifted by `offset` (framed by a border).
    func shifted(by offset: Point) -> DetectedFace {
        DetectedFace(
            box: Box(x: box.x + offset.x, y: box.y + offset.y, width: box.width, height: box.height),
            confidence: confidence, landmarks: landmarks?.map { Point(x: $0.x + offset.x, y: $0.y + offset.y) })
    }
}

/// A face detector the pipeline can use: the default set's res10 SSD, or YuNet.
public protocol FaceFinding: AnyObject {
    /// The faces in an image, most confident first.
    func faces(in image: Image) throws(VisionError) -> [DetectedFace]
    /// Seconds spent in the detector's forward passes so far.
    var forwardSeconds: Double { get }
}

/// OpenCV's res10 300x300 SSD face detector (Caffe).
public final class FaceDetector: FaceFinding {
    public static let inputSize = 300
    private let network: NeuralNetwork
    public let settings: DetectionSettings

    public init(network: NeuralNetwork, settings: DetectionSettings) {
        self.network = network
        self.settings = settings
    }

    /// Seconds spent in the detector's forward passes so far.
    public var forwardSeconds: Double { network.forwardSeconds }

    /// Loads the detector from the models directory (checksums verified).
    public static func load(from models: ModelDirectory, settings: DetectionSettings) throws(VisionError)
        -> FaceDetector
    {
        let prototxt = try models.verifiedFile("face-detector/deploy-opencv.prototxt", role: "face detector definition")
        let weights = try models.verifiedFile(
            "face-detector/res10_300x300_ssd_iter_140000-opencv.caffemodel",
            role: "face detector weights")
        return FaceDetector(network: try .caffe(prototxt: prototxt, weights: weights), settings: settings)
    }

    /// The detector's input size for an image: 300x300, or with `keepAspect` the
    /// image's aspect ratio with its longer side 300 (the shorter at least 32).
    public func inputSize(for image: Image) -> (width: Int, height: Int) {
        guard settings.keepAspect, image.width > 0, image.height > 0 else { return (Self.inputSize, Self.inputSize) }
        let side = Double(Self.inputSize)
        if image.width >= image.height {
            return (Self.inputSize, max(32, Int((side * Double(image.height) / Double(image.width)).rounded())))
        }
        return (max(32, Int((side * Double(image.width) / Double(image.height)).rounded())), Self.inputSize)
    }

    public func faces(in image: Image) throws(VisionError) -> [DetectedFace] { try detect(in: image) }

    /// Finds the faces in an image, most confident first.
    public func detect(in image: Image) throws(VisionError) -> [DetectedFace] {
        let (inputWidth, inputHeight) = inputSize(for: image)
        let input = try image.resized(width: inputWidth, height: inputHeight)
        let output = try network.forward(Blob(image: input, order: .bgr, mean: settings.mean, scale: 1))
        guard output.values.count % 7 == 0 else {
            throw .unexpectedOutput(model: network.name, reason: "expected rows of 7 values, got \(output.shape)")
        }
        let width = Double(image.width), height = Double(image.height)
        var faces: [DetectedFace] = []
        for row in 0..<(output.values.count / 7) {
            let r = output.values[(row * 7)..<(row * 7 + 7)].map(Double.init)
            let confidence = r[2]
            guard confidence >= settings.confidenceThreshold, confidence <= 1 else { continue }
            let box = Box(
                x: r[3] * width, y: r[4] * height, width: (r[5] - r[3]) * width, height: (r[6] - r[4]) * height
            )
            .clipped(width: width, height: height)
            guard min(box.width, box.height) >= Double(settings.minFaceSize) else { continue }
            faces.append(DetectedFace(box: box, confidence: confidence))
        }
        return faces.sorted { $0.confidence > $1.confidence }
    }
}
