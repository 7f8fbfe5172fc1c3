/// Chooses what to ask a camera for, from what it offers: the pixel format, the
/// frame size nearest the configured one, and the frame rate nearest it (the
/// slowest rate at or above it, else the fastest there is). Kept apart from the
/// device so that it can be tested without one.
public enum FormatNegotiation {
    /// One format the device offers, with its sizes and each size's rates.
    public struct Offer: Sendable, Equatable {
        public var fourcc: String
        /// Converted by libv4l2 from another format, not native to the camera.
        public var emulated: Bool
        public var sizes: [Size]

        public init(fourcc: String, emulated: Bool = false, sizes: [Size]) {
            self.fourcc = fourcc
            self.emulated = emulated
            self.sizes = sizes
        }
    }

    public struct Size: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var rates: [Double]
        public init(width: Int, height: Int, rates: [Double]) {
            self.width = width
            self.height = height
            self.rates = rates
        }
    }

    public struct Choice: Sendable, Equatable {
        public var fourcc: String
        public var width: Int
        public var height: Int
        /// nil when the device lists no rates for the size (the driver decides).
        public var fps: Double?

        public init(fourcc: String, width: Int, height: Int, fps: Double?) {
            self.fourcc = fourcc
            self.width = width
            self.height = height
            self.fps = fps
        }
    }

    /// `preferred`: "MJPG", "YUYV", or nil for automatic: MJPEG above 640x480 (YUYV
    /// at that size fills USB 2.0 at a few frames per second), YUYV up to it (no
    /// decoding cost), then whatever libv4l2 can convert to BGR.
    public static func choose(from offers: [Offer], width: Int, height: Int, fps: Double, preferred: String?) throws(CaptureError) -> Choice {
        let native = offers.filter { !$0.emulated && !$0.sizes.isEmpty }
        let order: [String]
        if let preferred {
            order = [preferred]
        } else {
            order = width * height > 640 * 480 ? ["MJPG", "YUYV", "JPEG"] : ["YUYV", "MJPG", "JPEG"]
        }
        let offer = order.lazy.compactMap { name in native.first { $0.fourcc == name } }.first
            ?? (preferred == nil ? offers.first { $0.fourcc == "BGR3" && !$0.sizes.isEmpty } : nil)
        guard let offer else {
            let available = offers.map(\.fourcc).joined(separator: ", ")
            throw .unsupportedFormat(path: "", reason: "the camera offers \(available.isEmpty ? "no format" : available), not \(preferred ?? "MJPG, YUYV or a format libv4l2 converts")")
        }
        let requested = Double(width * height)
        let size = offer.sizes.min { a, b in
            let da = abs(Double(a.width * a.height) - requested), db = abs(Double(b.width * b.height) - requested)
            return da != db ? da < db : a.width * a.height > b.width * b.height
        }!
        let atLeast = size.rates.filter { $0 >= fps - 0.01 }
        let rate = atLeast.min() ?? size.rates.max()
        return Choice(fourcc: offer.fourcc, width: size.width, height: size.height, fps: rate)
    }
}
