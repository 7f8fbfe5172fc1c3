import Foundation

/// Writes Caffe `.caffemodel` files (protobuf `NetParameter`) by hand, so that the
/// Levi & Hassner path can be tested without the authors' weights. Supports both
/// formats real files come in: V2 (`layer`, field 100, with `BlobShape`) and the
/// V1 format of the original age_net/gender_net (`layers`, field 2, with num /
/// channels / height / width).
struct CaffeModelWriter {
    struct Layer {
        var name: String
        /// Each blob's shape and values; values nil = all zeros.
        var blobs: [(shape: [Int], values: [Float]?)]
    }

    enum Format { case v1, v2 }

    static func write(_ layers: [Layer], format: Format, to path: String) throws {
        var net = Data()
        net.appendField(1, string: "generated-for-tests")
        for layer in layers {
            var message = Data()
            switch format {
            case .v2:
                message.appendField(1, string: layer.name)
                for blob in layer.blobs { message.appendField(7, message: blobV2(blob)) }
                net.appendField(100, message: message)
            case .v1:
                message.appendField(4, string: layer.name)
                for blob in layer.blobs { message.appendField(6, message: blobV1(blob)) }
                net.appendField(2, message: message)
            }
        }
        try net.write(to: URL(fileURLWithPath: path))
    }

    private static func floats(_ blob: (shape: [Int], values: [Float]?)) -> Data {
        let count = blob.shape.reduce(1, *)
        guard let values = blob.values else { return Data(count: count * 4) }
        precondition(values.count == count)
        var data = Data(capacity: count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    private static func blobV2(_ blob: (shape: [Int], values: [Float]?)) -> Data {
        var shape = Data()
        var dims = Data()
        for dim in blob.shape { dims.appendVarint(UInt64(dim)) }
        shape.appendField(1, bytes: dims)  // packed repeated int64 dim
        var message = Data()
        message.appendField(7, message: shape)
        message.appendField(5, bytes: floats(blob))  // packed repeated float data
        return message
    }

    private static func blobV1(_ blob: (shape: [Int], values: [Float]?)) -> Data {
        // V1 blobs are always 4-D: num, channels, height, width (fully connected: 1, 1, out, in).
        let four = Array(repeating: 1, count: 4 - blob.shape.count) + blob.shape
        var message = Data()
        for (field, value) in zip(1...4, four) { message.appendVarintField(field, UInt64(value)) }
        message.appendField(5, bytes: floats(blob))
        return message
    }
}

extension Data {
    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }

    mutating func appendVarintField(_ field: Int, _ value: UInt64) {
        appendVarint(UInt64(field << 3))  // wire type 0
        appendVarint(value)
    }

    mutating func appendField(_ field: Int, bytes: Data) {
        appendVarint(UInt64(field << 3 | 2))  // wire type 2: length-delimited
        appendVarint(UInt64(bytes.count))
        append(bytes)
    }

    mutating func appendField(_ field: Int, message: Data) { appendField(field, bytes: message) }
    mutating func appendField(_ field: Int, string: String) { appendField(field, bytes: Data(string.utf8)) }
}
