internal import CV4L2
import Foundation

/// What a V4L2 device offers, for `edgecensus cameras`.
public struct V4L2DeviceInfo: Sendable {
    public struct FormatInfo: Sendable {
        public var fourcc: String
        public var description: String
        /// Converted by libv4l2, not native to the camera.
        public var emulated: Bool
        /// Each frame size with its frame rates (empty when the driver lists none).
        public var sizes: [FormatNegotiation.Size]
        /// Sizes given as a range instead, with the rates at the largest size.
        public var range: (sizes: FormatNegotiation.SizeRange, rates: [Double])?

        /// What the format negotiation chooses from.
        var offer: FormatNegotiation.Offer {
            FormatNegotiation.Offer(fourcc: fourcc, emulated: emulated, sizes: sizes, range: range?.sizes)
        }
    }

    public var path: String
    /// Stable names (`/dev/v4l/by-id/...`) that point at this device.
    public var stableNames: [String]
    public var card: String
    public var driver: String
    public var bus: String
    public var isCapture: Bool
    public var formats: [FormatInfo]
}

/// Lists the V4L2 devices of this machine.
public enum V4L2Devices {
    public static func list(devDirectory: String = "/dev") -> [V4L2DeviceInfo] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: devDirectory)) ?? [])
            .filter { $0.hasPrefix("video") }
            .sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
        let byID = devDirectory + "/v4l/by-id"
        let links = (try? FileManager.default.contentsOfDirectory(atPath: byID)) ?? []
        return names.compactMap { name in
            let path = devDirectory + "/" + name
            let stable = links.map { byID + "/" + $0 }.filter {
                URL(fileURLWithPath: $0).resolvingSymlinksInPath().path
                    == URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            }
            return describe(path: path, stableNames: stable)
        }
    }

    /// One device, by path; nil if it cannot be opened.
    public static func describe(path: String, stableNames: [String] = []) -> V4L2DeviceInfo? {
        let fd = CV4L2_open(path, O_RDWR | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { _ = CV4L2_close(fd) }
        return describe(fd: fd, path: path, stableNames: stableNames)
    }

    /// Describes an open device (libv4l2 descriptor).
    static func describe(fd: Int32, path: String, stableNames: [String]) -> V4L2DeviceInfo? {
        var capability = v4l2_capability()
        guard withUnsafeMutablePointer(to: &capability, { CV4L2_ioctl(fd, CV4L2_VIDIOC_QUERYCAP, $0) }) == 0 else {
            return nil
        }
        let caps =
            capability.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0
            ? capability.device_caps : capability.capabilities
        var formats: [V4L2DeviceInfo.FormatInfo] = []
        var index: UInt32 = 0
        while true {
            var description = v4l2_fmtdesc()
            description.index = index
            description.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            guard withUnsafeMutablePointer(to: &description, { CV4L2_ioctl(fd, CV4L2_VIDIOC_ENUM_FMT, $0) }) == 0 else {
                break
            }
            let (sizes, range) = sizes(fd: fd, fourcc: description.pixelformat)
            formats.append(
                .init(
                    fourcc: V4L2Camera.fourccName(description.pixelformat),
                    description: string(description.description),
                    emulated: description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0,
                    sizes: sizes, range: range))
            index += 1
        }
        return V4L2DeviceInfo(
            path: path, stableNames: stableNames, card: string(capability.card), driver: string(capability.driver),
            bus: string(capability.bus_info), isCapture: caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0,
            formats: formats)
    }

    static func sizes(fd: Int32, fourcc: UInt32)
        -> ([FormatNegotiation.Size], (sizes: FormatNegotiation.SizeRange, rates: [Double])?)
    {
        var result: [FormatNegotiation.Size] = []
        var index: UInt32 = 0
        while true {
            var size = v4l2_frmsizeenum()
            size.index = index
            size.pixel_format = fourcc
            guard withUnsafeMutablePointer(to: &size, { CV4L2_ioctl(fd, CV4L2_VIDIOC_ENUM_FRAMESIZES, $0) }) == 0 else {
                break
            }
            guard size.type == UInt32(V4L2_FRMSIZE_TYPE_DISCRETE.rawValue) else {
                // Stepwise or continuous: one range, the only entry.
                let s = size.stepwise
                let range = FormatNegotiation.SizeRange(
                    minWidth: Int(s.min_width), maxWidth: Int(s.max_width), widthStep: Int(s.step_width),
                    minHeight: Int(s.min_height), maxHeight: Int(s.max_height), heightStep: Int(s.step_height))
                return ([], (range, rates(fd: fd, fourcc: fourcc, width: range.maxWidth, height: range.maxHeight)))
            }
            let width = Int(size.discrete.width), height = Int(size.discrete.height)
            result.append(
                .init(width: width, height: height, rates: rates(fd: fd, fourcc: fourcc, width: width, height: height)))
            index += 1
        }
        return (result, nil)
    }

    static func rates(fd: Int32, fourcc: UInt32, width: Int, height: Int) -> [Double] {
        var result: [Double] = []
        var index: UInt32 = 0
        while true {
            var interval = v4l2_frmivalenum()
            interval.index = index
            interval.pixel_format = fourcc
            interval.width = UInt32(width)
            interval.height = UInt32(height)
            guard
                withUnsafeMutablePointer(to: &interval, { CV4L2_ioctl(fd, CV4L2_VIDIOC_ENUM_FRAMEINTERVALS, $0) }) == 0
            else { break }
            if interval.type == UInt32(V4L2_FRMIVAL_TYPE_DISCRETE.rawValue), interval.discrete.numerator > 0 {
                result.append(Double(interval.discrete.denominator) / Double(interval.discrete.numerator))
            } else {
                let s = interval.stepwise
                if s.min.numerator > 0 { result.append(Double(s.min.denominator) / Double(s.min.numerator)) }
                if s.max.numerator > 0 { result.append(Double(s.max.denominator) / Double(s.max.numerator)) }
                break
            }
            index += 1
        }
        return result
    }

    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
