import Foundation

/// A face YuNet found: its box, score and five landmarks (in image pixels).
public struct YuNetFace: Sendable, Equatable {
    public var box: Box
    /// √(cls · obj), 0..1.
    public var score: Double
    /// Right eye, left eye, nose tip, right and left mouth corners (the subject's own
    /// right and left), the order of YuNet's `kps` heads and of OpenCV's `FaceDetectorYN`.
    public var landmarks: [Point]

    public init(box: Box, score: Double, landmarks: [Point]) {
        self.box = box
        self.score = score
        self.landmarks = landmarks
    }
}

/// YuNet (libfacedetection.train, Apache-2.0), a fixed-size ONNX graph such as
/// `yunet_n_320_320.onnx`. An optional model the user installs; never shipped.
///
/// OpenCV 4.6's `FaceDetectorYN` expects an older output layout, so the heads are
/// decoded here, as OpenCV 4.8 and later decode them (`face_detect.cpp`): for each
/// stride s in 8, 16, 32 and each cell (row r, column c) of the s-grid,
/// score = √(clamp(cls) · clamp(obj)); centre ((c + dx)·s, (r + dy)·s); size
/// (e^dw·s, e^dh·s); landmark k at ((c + kx)·s, (r + ky)·s). Then greedy NMS.
///
/// The image goes in at its own aspect ratio: scaled so that it fits the input
/// size, top-left aligned, the rest black; boxes are scaled back. OpenCV reshapes
/// the "fixed-size" graphs to the input it is given, so `yunet_n_320_320.onnx` runs
/// at any size whose sides are multiples of 32 (its coarsest stride): 640x640 finds
/// the small faces 320x320 misses, a 16:9 frame can go in as 320x192.
public final class YuNetDetector {
    public struct Settings: Sendable, Equatable {
        /// A face counts at or above this score.
        public var scoreThreshold = 0.9
        /// Overlapping boxes above this intersection over union keep only the best.
        public var nmsThreshold = 0.3
        /// Faces whose shorter side is under this many pixels are ignored.
        public var minFaceSize = 20
        /// Shrink the input's shorter side to the image's aspect ratio (rounded up to a
        /// multiple of 32) instead of padding it to the full input size: a 16:9 frame
        /// at 640x640 goes in as 640x384, with 40 % less work and the same faces.
        public var fitToImage = false
        public init() {}
    }

    public static let strides = [8, 16, 32]
    public static let outputNames = strides.flatMap { s in ["cls", "obj", "bbox", "kps"].map { "\($0)_\(s)" } }

    private let network: NeuralNetwork
    public let inputWidth: Int
    public let inputHeight: Int
    public var settings: Settings

    public init(network: NeuralNetwork, inputWidth: Int, inputHeight: Int, settings: Settings = Settings())
        throws(VisionError)
    {
        guard inputWidth >= 32, inputHeight >= 32, inputWidth % 32 == 0, inputHeight % 32 == 0 else {
            throw .invalidSpecification(
                key: "YuNet input size",
                reason: "\(inputWidth)x\(inputHeight): each side must be a "
                    + "multiple of 32 (its coarsest stride), such as 320x320, 640x640 or 320x192")
        }
        self.network = network
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.settings = settings
    }

    /// Loads a fixed-size graph (its input size given, as in its file name), verified
    /// against `expectedSHA256`, else the set's checksums.
    public static func load(
        _ file: String, from models: ModelDirectory, inputWidth: Int, inputHeight: Int,
        settings: Settings = Settings(), expectedSHA256: String? = nil
    ) throws(VisionError) -> YuNetDetector {
        let path = try models.verifiedFile(file, role: "YuNet face detector", expectedSHA256: expectedSHA256)
        return try YuNetDetector(
            network: try .onnx(path: path), inputWidth: inputWidth, inputHeight: inputHeight, settings: settings)
    }

    /// The detector a model set's manifest names, with its thresholds and, for frames,
    /// its `frames` input and threshold; the smallest face and whether frames go in at their own
    /// aspect come from `detection`.
    public static func load(
        _ entry: ModelSetManifest.Detector, from models: ModelDirectory,
        detection: DetectionSettings = DetectionSettings()
    ) throws(VisionError) -> YuNetDetector {
        var settings = Settings()
        if let score = (detection.frames ? entry.frames?.scoreThreshold : nil) ?? entry.scoreThreshold {
            settings.scoreThreshold = score
        }
        if let nms = entry.nmsThreshold { settings.nmsThreshold = nms }
        settings.minFaceSize = detection.minFaceSize
        settings.fitToImage = detection.keepAspect
        let size = detection.frames ? entry.frames.map { ($0.width, $0.height) } : nil
        return try load(
            entry.file, from: models, inputWidth: size?.0 ?? entry.input.width,
            inputHeight: size?.1 ?? entry.input.height,
            settings: settings, expectedSHA256: entry.sha256)
    }

    public var forwardSeconds: Double { network.forwardSeconds }

    /// The faces in an image, best first.
    public func detect(in image: Image) throws(VisionError) -> [YuNetFace] {
        guard image.width > 0, image.height > 0 else { return [] }
        let factor = min(Double(inputWidth) / Double(image.width), Double(inputHeight) / Double(image.height))
        let scaledWidth = max(1, min(inputWidth, Int((Double(image.width) * factor).rounded())))
        let scaledHeight = max(1, min(inputHeight, Int((Double(image.height) * factor).rounded())))
        let blobWidth = settings.fitToImage ? min(inputWidth, (scaledWidth + 31) / 32 * 32) : inputWidth
        let blobHeight = settings.fitToImage ? min(inputHeight, (scaledHeight + 31) / 32 * 32) : inputHeight
        let fitted = try image.resized(width: scaledWidth, height: scaledHeight)
            .padded(
                top: 0, bottom: blobHeight - scaledHeight, left: 0, right: blobWidth - scaledWidth,
                replicatingEdges: false)
        let heads = try network.forward(
            Blob(image: fitted, order: .bgr, mean: [0, 0, 0], scale: 1), outputs: Self.outputNames)
        let candidates = try Self.decode(
            heads, inputWidth: blobWidth, inputHeight: blobHeight,
            scoreThreshold: settings.scoreThreshold, model: network.name)
        let back = 1 / factor
        let width = Double(image.width), height = Double(image.height)
        return Self.suppress(candidates, threshold: settings.nmsThreshold).compactMap { face in
            var face = face
            face.box = Box(
                x: face.box.x * back, y: face.box.y * back, width: face.box.width * back, height: face.box.height * back
            )
            .clipped(width: width, height: height)
            face.landmarks = face.landmarks.map { Point(x: $0.x * back, y: $0.y * back) }
            return min(face.box.width, face.box.height) >= Double(settings.minFaceSize) ? face : nil
        }
    }

    /// Every cell at or above the threshold, in input pixels, from the twelve heads in `outputNames` order.
    public static func decode(
        _ heads: [[Float]], inputWidth: Int, inputHeight: Int, scoreThreshold: Double,
        model: String
    ) throws(VisionError) -> [YuNetFace] {
        var faces: [YuNetFace] = []
        for (index, stride) in strides.enumerated() {
            let columns = inputWidth / stride, rows = inputHeight / stride, cells = columns * rows
            let cls = heads[index * 4], obj = heads[index * 4 + 1], bbox = heads[index * 4 + 2],
                kps = heads[index * 4 + 3]
            guard cls.count == cells, obj.count == cells, bbox.count == 4 * cells, kps.count == 10 * cells else {
                throw .unexpectedOutput(
                    model: model,
                    reason: "stride \(stride): heads of \(cls.count)/\(obj.count)/\(bbox.count)/"
                        + "\(kps.count) values, \(cells)/\(cells)/\(4 * cells)/\(10 * cells) expected for a "
                        + "\(inputWidth)x\(inputHeight) input (is it a YuNet graph with strides 8, 16 and 32?)")
            }
            let s = Double(stride)
            for row in 0..<rows {
                for column in 0..<columns {
                    let cell = row * columns + column
                    let score = (Double(min(max(cls[cell], 0), 1)) * Double(min(max(obj[cell], 0), 1))).squareRoot()
                    guard score >= scoreThreshold else { continue }
                    let cx = (Double(column) + Double(bbox[4 * cell])) * s,
                        cy = (Double(row) + Double(bbox[4 * cell + 1])) * s
                    let w = exp(Double(bbox[4 * cell + 2])) * s, h = exp(Double(bbox[4 * cell + 3])) * s
                    let landmarks = (0..<5).map { k in
                        Point(
                            x: (Double(kps[10 * cell + 2 * k]) + Double(column)) * s,
                            y: (Double(kps[10 * cell + 2 * k + 1]) + Double(row)) * s)
                    }
                    faces.append(
                        YuNetFace(
                            box: Box(x: cx - w / 2, y: cy - h / 2, width: w, height: h), score: score,
                            landmarks: landmarks))
                }
            }
        }
        return faces
    }

    /// Greedy non-maximum suppression, best score first (as `cv::dnn::NMSBoxes`).
    public static func suppress(_ faces: [YuNetFace], threshold: Double) -> [YuNetFace] {
        var kept: [YuNetFace] = []
        for face in faces.sorted(by: { $0.score > $1.score })
        where kept.allSatisfy({ $0.box.intersectionOverUnion(face.box) <= threshold }) {
            kept.append(face)
        }
        return kept
    }
}

extension YuNetDetector: FaceFinding {
    public func faces(in image: Image) throws(VisionError) -> [DetectedFace] {
        try detect(in: image).map { DetectedFace(box: $0.box, confidence: $0.score, landmarks: $0.landmarks) }
    }
}
