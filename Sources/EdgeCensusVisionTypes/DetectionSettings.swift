/// How faces are found: the thresholds a user may tune.
public struct DetectionSettings: Sendable, Equatable {
    /// A detection counts as a face at or above this confidence (0..1).
    public var confidenceThreshold: Double = 0.5
    /// Faces whose shorter side is smaller than this many pixels are ignored.
    public var minFaceSize: Int = 20
    /// Also search the photo framed by a border of this fraction of its size on each
    /// side (edge pixels repeated), and cut faces from the framed copy; 0 turns it off.
    /// A face that fills a tightly cropped portrait is only found whole this way, and
    /// its aligned crop then does not run off the picture. It costs a second detector
    /// pass, so the camera agent turns it off.
    public var border: Double = 0.4
    /// Per-channel BGR mean the SSD subtracts (its training definition uses 104, 117, 123).
    public var mean: [Double] = [104, 117, 123]
    /// Give the detector the image at its own aspect ratio, its longer side 300 px
    /// (a 16:9 frame becomes 300x169: about half the work, and faces not squashed),
    /// rather than squashed to 300x300 (the default here, and what photos get; the
    /// agent's configuration turns it on for camera and video frames).
    public var keepAspect = false
    /// The pipeline sees a camera's or a video's frames (the agent), not photos: a
    /// model set's detector may search them differently (`frames`).
    public var frames = false

    public init() {}
}
