/// JSON as RFC 8259 writes it, and nothing more, for requests that change a
/// device: UTF-8 without a byte-order mark, no duplicate keys, no trailing commas,
/// no comments, finite numbers, no lone surrogates, at most `deepestNesting` levels.
/// Each refusal says what was found and at which byte.
///
/// Written here because Foundation's parser cannot be made strict: it reads
/// UTF-16 and UTF-32 by guessing, skips a byte-order mark, keeps one of two
/// duplicate keys, and reports `1e309` as a type mismatch of the whole document.
enum StrictJSON {
    struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        var offset: Int
        var problem: String
        var description: String { "\(problem) at byte \(offset)" }
    }

    static let deepestNesting = 32

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw Failure(offset: 0, problem: "a byte-order mark (send UTF-8 without one)")
        }
        if bytes.count >= 2, bytes[0] == 0 || bytes[1] == 0 {
            throw Failure(offset: 0, problem: "UTF-16 or UTF-32 text (send UTF-8)")
        }
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.offset == bytes.count else { throw parser.failure("more after the value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0

        func failure(_ problem: String) -> Failure { Failure(offset: offset, problem: problem) }

        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        mutating func expect(_ word: String) throws(Failure) {
            let utf8 = Array(word.utf8)
            guard offset + utf8.count <= bytes.count, Array(bytes[offset..<(offset + utf8.count)]) == utf8 else {
                throw failure("not a JSON value")
            }
            offset += utf8.count
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard depth < StrictJSON.deepestNesting else {
                throw failure("nested more than \(StrictJSON.deepestNesting) levels deep")
            }
            guard let byte = current else { throw failure("the text ends where a value should be") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw failure("not a JSON value")
            }
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            offset += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
            while true {
                skipSpace()
                guard current == UInt8(ascii: "\"") else {
                    throw failure(
                        current == UInt8(ascii: "}") ? "a trailing comma" : "a key must be a string in double quotes")
                }
                let keyOffset = offset
                let key = try string()
                guard members[key] == nil else {
                    throw Failure(offset: keyOffset, problem: "the key \"\(key)\" twice in one object")
                }
                skipSpace()
                guard current == UInt8(ascii: ":") else { throw failure("a colon should follow the key \"\(key)\"") }
                offset += 1
                skipSpace()
                members[key] = try value(depth: depth + 1)
                skipSpace()
                if current == UInt8(ascii: ",") { offset += 1; continue }
                if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
                throw failure("a comma or } should follow a member")
            }
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            offset += 1
            var elements: [JSONValue] = []
            skipSpace()
            if current == UInt8(ascii: "]") { offset += 1; return .array(elements) }
            while true {
                skipSpace()
                if current == UInt8(ascii: "]") { throw failure("a trailing comma") }
                elements.append(try value(depth: depth + 1))
                skipSpace()
                if current == UInt8(ascii: ",") { offset += 1; continue }
                if current == UInt8(ascii: "]") { offset += 1; return .array(elements) }
                throw failure("a comma or ] should follow an element")
            }
        }

        mutating func string() throws(Failure) -> String {
            offset += 1
            var scalars = String.UnicodeScalarView()
            var run = offset
            func flush(_ parser: Parser, upTo end: Int) throws(Failure) {
                guard let text = String(validating: parser.bytes[run..<end], as: UTF8.self) else {
                    throw Failure(offset: run, problem: "text that is not UTF-8")
                }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    try flush(self, upTo: offset)
                    offset += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush(self, upTo: offset)
                    offset += 1
                    scalars.append(try escape())
                    run = offset
                case 0..<0x20:
                    throw failure("a control character inside a string (escape it)")
                default:
                    offset += 1
                }
            }
            throw failure("a string that is never closed")
        }

        mutating func escape() throws(Failure) -> Unicode.Scalar {
            guard let byte = current else { throw failure("a string that is never closed") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let first = try hex4()
                if (0xD800...0xDBFF).contains(first) {
                    guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count,
                        bytes[offset + 1] == UInt8(ascii: "u")
                    else {
                        throw failure("a lone surrogate (\\u\(String(first, radix: 16)))")
                    }
                    offset += 2
                    let second = try hex4()
                    guard (0xDC00...0xDFFF).contains(second) else {
                        throw failure("a lone surrogate (\\u\(String(first, radix: 16)))")
                    }
                    return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(first) else {
                    throw failure("a lone surrogate (\\u\(String(first, radix: 16)))")
                }
                return scalar
            default:
                throw failure("an unknown escape \\\(Character(Unicode.Scalar(byte)))")
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard offset + 4 <= bytes.count else { throw failure("a \\u escape needs four hexadecimal digits") }
            var value: UInt32 = 0
            for byte in bytes[offset..<(offset + 4)] {
                guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                    throw failure("a \\u escape needs four hexadecimal digits")
                }
                value = value << 4 | UInt32(digit)
            }
            offset += 4
            return value
        }

        mutating func number() throws(Failure) -> JSONValue {
            let start = offset
            if current == UInt8(ascii: "-") { offset += 1 }
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.offset
                while let byte = parser.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    parser.offset += 1
                }
                return parser.offset - from
            }
            let whole = offset
            guard digits(&self) > 0 else { throw failure("a number needs digits") }
            if bytes[whole] == UInt8(ascii: "0") && offset - whole > 1 {
                throw Failure(offset: whole, problem: "a number with a leading zero")
            }
            var fractional = false
            if current == UInt8(ascii: ".") {
                offset += 1
                fractional = true
                guard digits(&self) > 0 else { throw failure("digits should follow the decimal point") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                offset += 1
                fractional = true
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                guard digits(&self) > 0 else { throw failure("digits should follow the exponent") }
            }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            if !fractional, let integer = Int(text) { return .int(integer) }
            guard let number = Double(text), number.isFinite else {
                throw Failure(offset: start, problem: "the number \(text.prefix(40)) is out of range")
            }
            if !fractional {
                throw Failure(offset: start, problem: "the whole number \(text.prefix(40)) is out of range")
            }
            return .double(number)
        }
    }
}
