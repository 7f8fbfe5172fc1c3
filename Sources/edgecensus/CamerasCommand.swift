import ArgumentParser
import EdgeCensusCapture
import Foundation

struct CamerasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cameras",
        abstract: "List the V4L2 cameras with their formats, sizes and frame rates.",
        discussion: "Use a stable /dev/v4l/by-id/... name as source.device: /dev/videoN numbers can change between boots.")

    func run() throws {
        let devices = V4L2Devices.list()
        guard !devices.isEmpty else {
            print("No V4L2 cameras found: no /dev/video* device can be opened. Is a camera plugged in, and may this user open it (group 'video')?")
            return
        }
        for device in devices {
            print("\(device.path): \(device.card) (driver \(device.driver), \(device.bus))\(device.isCapture ? "" : " — not a capture device")")
            for name in device.stableNames { print("  also \(name)") }
            for format in device.formats {
                print("  \(format.fourcc) \(format.description)")
                for size in format.sizes {
                    let rates = size.rates.map { String(format: "%g", $0) }.joined(separator: ", ")
                    print("    \(size.width)x\(size.height)" + (rates.isEmpty ? "" : " @ \(rates) fps"))
                }
            }
        }
    }
}
