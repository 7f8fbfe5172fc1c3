import Foundation

/// Reads dlib's portable binary serialization: integers as a control byte (low
/// nibble = byte count, 0x80 = negative) followed by little-endian bytes; floats as
/// an integer mantissa and an integer exponent (value = mantissa · 2^exponent);
/// `std::vector` as a count then items; `matrix` as rows and columns (negated by
/// newer dlib versions) then items row-major.
struct DlibDeserializer {
    private let bytes: [UInt8]
    private(set) var offset = 0
    let path: String

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func integer() throws(VisionError) -> Int64 {
        guard offset < bytes.count else { throw truncated("an integer") }
        let control = bytes[offset]
        offset += 1
        let size = Int(control & 0x0F)
        guard size <= 8, control & 0x70 == 0 else {
            throw .malformedModel(
                path: path, reason: "bad integer control byte 0x\(String(control, radix: 16)) at offset \(offset - 1)")
        }
        guard offset + size <= bytes.count else { throw truncated("an integer") }
        var magnitude: UInt64 = 0
        for index in 0..<size {
            magnitude |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        offset += size
        guard magnitude <= UInt64(Int64.max) else {
            throw .malformedModel(path: path, reason: "integer out of range at offset \(offset - size - 1)")
        }
        return control & 0x80 != 0 ? -Int64(magnitude) : Int64(magnitude)
    }

    mutating func count(limit: Int = 10_000_000) throws(VisionError) -> Int {
        let value = try integer()
        guard value >= 0, value <= limit else {
            throw .malformedModel(path: path, reason: "implausible count \(value) at offset \(offset)")
        }
        return Int(value)
    }

    mutating func float() throws(VisionError) -> Float {
        let mantissa = try integer()
        let exponent = try integer()
        // dlib marks infinities and NaN with reserved exponents at the top of the int16 range.
        if exponent >= Int64(Int16.max) - 2 {
            return exponent == Int64(Int16.max) ? (mantissa > 0 ? .infinity : -.infinity) : .nan
        }
        return Float(Double(mantissa) * pow(2.0, Double(exponent)))
    }

    /// A `matrix<float,0,1>` or any float matrix, flattened row-major.
    mutating func floatMatrix() throws(VisionError) -> [Float] {
        var values: [Float] = []
        try floatMatrix(into: &values)
        return values
    }

    /// Appends a float matrix, flattened row-major, to `values`; returns its element count.
    @discardableResult
    mutating func floatMatrix(into values: inout [Float]) throws(VisionError) -> Int {
        let rows = abs(try integer()), columns = abs(try integer())
        guard rows >= 0, columns >= 0, rows * columns <= 10_000_000 else {
            throw .malformedModel(path: path, reason: "implausible matrix size \(rows)x\(columns)")
        }
        let count = Int(rows * columns)
        for _ in 0..<count { values.append(try float()) }
        return count
    }

    mutating func array<T>(_ element: (inout DlibDeserializer) throws(VisionError) -> T) throws(VisionError) -> [T] {
        let size = try count()
        var items: [T] = []
        items.reserveCapacity(size)
        for _ in 0..<size { items.append(try element(&self)) }
        return items
    }

    private func truncated(_ what: String) -> VisionError {
        .malformedModel(path: path, reason: "file ends in the middle of \(what) (offset \(offset)); is it truncated?")
    }
}
