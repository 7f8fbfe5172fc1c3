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
        /// The sizes a camera lists one by one (most USB cameras).
        public var sizes: [Size]
        /// The sizes a device gives as a range instead (capture cards, some drivers).
        /// With neither, the device lists no sizes: it is asked for the configured one.
        public var range: SizeRange?

        public init(fourcc: String, emulated: Bool = false, sizes: [Size], range: SizeRange? = nil) {
            self.fourcc = fourcc
            self.emulated = emulated
            self.sizes = sizes
            self.range = range
        }
    }

    /// Every size from the smallest to the largest in steps (a step of 1: any size).
    public struct SizeRange: Sendable, Equatable {
        public var minWidth: Int, maxWidth: Int, widthStep: Int
        public var minHeight: Int, maxHeight: Int, heightStep: Int

        public init(minWidth: Int, maxWidth: Int, widthStep: Int, minHeight: Int, maxHeight: Int, heightStep: Int) {
            self.minWidth = minWidth
            self.maxWidth = maxWidth
            self.widthStep = max(1, widthStep)
            self.minHeight = minHeight
            self.maxHeight = maxHeight
            self.heightStep = max(1, heightStep)
        }

        /// The size in the range nearest the one asked for.
        public func nearest(width: Int, height: Int) -> (width: Int, height: Int) {
            func fit(_ value: Int, _ low: Int, _ high: Int, _ step: Int) -> Int {
                let clamped = min(max(value, low), high)
                let steps = ((Double(clamped - low) / Double(step)).rounded())
                return min(high, low + Int(steps) * step)
            }
            return (fit(width, minWidth, maxWidth, widthStep), fit(height, minHeight, maxHeight, heightStep))
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
    public static func choose(from offers: [Offer], width: Int, height: Int, fps: Double, preferred: String?)
        throws(CaptureError) -> Choice
    {
        let native = offers.filter { !$0.emulated }
        let order: [String]
        if let preferred {
            order = [preferred]
        } else {
            order = width * height > 640 * 480 ? ["MJPG", "YUYV", "JPEG"] : ["YUYV", "MJPG", "JPEG"]
        }
        let offer =
            order.lazy.compactMap { name in native.first { $0.fourcc == name } }.first
            ?? (preferred == nil ? offers.first { $0.fourcc == "BGR3" } : nil)
        guard let offer else {
            let available = offers.map(\.fourcc).joined(separator: ", ")
            throw .unsupportedFormat(
                path: "",
                reason:
                    "the camera offers \(available.isEmpty ? "no format" : available), not \(preferred ?? "MJPG, YUYV or a format libv4l2 converts")"
            )
        }
        guard !offer.sizes.isEmpty else {
            // A range, or no list at all: ask for the size (the device may still adjust
            // it) and let the driver pick the rate nearest the one asked for.
            let size = offer.range?.nearest(width: width, height: height) ?? (width: width, height: height)
            return Choice(fourcc: offer.fourcc, width: size.width, height: size.height, fps: nil)
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
