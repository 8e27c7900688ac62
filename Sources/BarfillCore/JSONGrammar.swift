/// The JSON string grammar (RFC 8259 §7) as barfill writes and reads it: one implementation for
/// the canonical writer, the plan reader and the Massive page scanner.
public enum JSONGrammar {
    /// Why the bytes at an offset are not a JSON string.
    public struct StringError: Error, Hashable, Sendable {
        /// Byte offset of the problem.
        public var offset: Int
        public var reason: String

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    /// Appends `s` quoted, escaping only what RFC 8259 requires (as Python's json and RFC 8785 do),
    /// so any canonical writer produces the same bytes for a chunk id. Short escapes where JSON has
    /// them, `\u00XX` for the other control characters.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Nearly every string barfill writes (tickers, times, ids) needs no escape: copied whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                // Bytes of multi-byte UTF-8 sequences are all >= 0x80, so this is a whole scalar.
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the decimal digits of `value`, as `String(value)` writes them.
    public static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // Digits of the magnitude, least significant first; UInt64 holds |Int64.min|.
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    /// Reads the string whose opening quote is at `bytes[start]`, strictly: no control characters,
    /// known escapes only, surrogates in pairs, valid UTF-8. Returns the text and the index just
    /// past the closing quote.
    @inlinable
    public static func readString<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, at start: Int
    ) throws(StringError) -> (text: String, end: Int) where Bytes.Index == Int {
        var position = start + 1
        let end = bytes.endIndex
        func fail(_ reason: String) -> StringError {
            StringError(offset: position, reason: reason)
        }
        // Most strings in a plan or a page have no escapes: decoded in one piece at the closing quote.
        var scalars: String.UnicodeScalarView?
        var run = position   // start of the current run of plain bytes
        while true {
            guard position < end else { throw fail("unterminated string") }
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let plain = String(decoding: bytes[run..<position], as: UTF8.self)
                position += 1
                guard var built = scalars else { return (plain, position) }
                built.append(contentsOf: plain.unicodeScalars)
                return (String(built), position)
            }
            if b < 0x20 { throw fail("control character in a string (escape it)") }
            if b == UInt8(ascii: "\\") {
                var built = scalars ?? String.UnicodeScalarView()
                if position > run { built.append(contentsOf: String(decoding: bytes[run..<position], as: UTF8.self).unicodeScalars) }
                position += 1
                guard position < end else { throw fail("unterminated escape") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): built.append("\"")
                case UInt8(ascii: "\\"): built.append("\\")
                case UInt8(ascii: "/"): built.append("/")
                case UInt8(ascii: "b"): built.append("\u{08}")
                case UInt8(ascii: "f"): built.append("\u{0C}")
                case UInt8(ascii: "n"): built.append("\n")
                case UInt8(ascii: "r"): built.append("\r")
                case UInt8(ascii: "t"): built.append("\t")
                case UInt8(ascii: "u"):
                    let unit = try hex4(bytes, &position)
                    if (0xD800...0xDBFF).contains(unit) {
                        guard position < end, bytes[position] == UInt8(ascii: "\\") else { throw fail("lone surrogate in \\u escape") }
                        position += 1
                        guard position < end, bytes[position] == UInt8(ascii: "u") else { throw fail("lone surrogate in \\u escape") }
                        position += 1
                        let low = try hex4(bytes, &position)
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in \\u escape") }
                        built.append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw fail("lone surrogate in \\u escape")
                    } else {
                        built.append(Unicode.Scalar(unit)!)
                    }
                default: position -= 1; throw fail("unknown escape")
                }
                scalars = built
                run = position
                continue
            }
            if b >= 0x80 {
                // Validate one UTF-8 sequence.
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0
                guard length > 0, position + length <= end else { throw fail("invalid UTF-8") }
                var decoder = UTF8()
                var iterator = bytes[position..<position + length].makeIterator()
                guard case .scalarValue = decoder.decode(&iterator) else { throw fail("invalid UTF-8") }
                guard iterator.next() == nil else { throw fail("invalid UTF-8") }
                position += length
                continue
            }
            position += 1
        }
    }

    /// Four hex digits of a `\u` escape at `position`, which moves past them.
    @inlinable
    static func hex4<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, _ position: inout Int
    ) throws(StringError) -> UInt32 where Bytes.Index == Int {
        guard position + 4 <= bytes.endIndex else { throw StringError(offset: position, reason: "short \\u escape") }
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - 0x41 + 10)
            default: throw StringError(offset: position, reason: "bad hex digit in \\u escape")
            }
            unit = unit << 4 | digit
            position += 1
        }
        return unit
    }
}
