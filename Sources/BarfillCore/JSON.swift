/// A JSON document as barfill writes and reads plans: integers only, object keys unique.
/// Numbers that are not integers (fractions, exponents, out of `Int64` range) are kept as
/// their text in `.number` so a reader can say which field held one.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a non-integer number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - Canonical writer

extension JSONValue {
    /// The canonical text: keys sorted by their UTF-8 bytes, two-space indent, `"key": value`,
    /// empty containers as `[]` and `{}`, and a trailing newline. Same value, same bytes.
    public var canonicalText: String {
        var out = ""
        write(to: &out, indent: 0, pretty: true)
        out.append("\n")
        return out
    }

    /// The canonical text with no whitespace at all, for content hashes.
    public var compactText: String {
        var out = ""
        write(to: &out, indent: 0, pretty: false)
        return out
    }

    private func write(to out: inout String, indent: Int, pretty: Bool) {
        switch self {
        case .null: out.append("null")
        case let .bool(b): out.append(b ? "true" : "false")
        case let .integer(i): out.append(String(i))
        case let .number(text): out.append(text)
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            if items.isEmpty { out.append("[]"); return }
            out.append("[")
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(",") }
                if pretty { JSONValue.newline(&out, indent + 1) }
                item.write(to: &out, indent: indent + 1, pretty: pretty)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out.append("]")
        case let .object(members):
            if members.isEmpty { out.append("{}"); return }
            out.append("{")
            // Byte order, not String's Unicode ordering, so any other canonical writer agrees.
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(",") }
                if pretty { JSONValue.newline(&out, indent + 1) }
                JSONValue.writeString(key, to: &out)
                out.append(pretty ? ": " : ":")
                members[key]!.write(to: &out, indent: indent + 1, pretty: pretty)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out.append("}")
        }
    }

    private static func newline(_ out: inout String, _ indent: Int) {
        out.append("\n")
        out.append(String(repeating: "  ", count: indent))
    }

    private static func writeString(_ s: String, to out: inout String) {
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            default:
                // Only what RFC 8259 requires escaped (as Python's json and RFC 8785 do), so any
                // canonical writer produces the same bytes for a chunk id.
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}

// MARK: - Strict parser

/// Why some bytes are not one JSON document.
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Byte offset of the problem in the input.
    public var offset: Int
    public var reason: String
    /// The input ended in the middle of a value (a cut-off download or copy).
    public var isTruncated: Bool

    public var description: String {
        isTruncated ? "the text ends early (truncated?) at byte \(offset): \(reason)" : "\(reason) at byte \(offset)"
    }
}

extension JSONValue {
    /// Parses exactly one JSON value (RFC 8259) with surrounding whitespace, refusing
    /// duplicate keys, a byte-order mark, trailing commas, leading zeros, lone surrogates,
    /// control characters in strings and nesting deeper than 64.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes: Array(bytes))
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.fail("unexpected text after the document") }
        self = value
    }

    public init(parsing text: String) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8))
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: reason, isTruncated: position >= bytes.count)
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func expect(_ literal: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
        for byte in literal.utf8 {
            guard let b = peek() else { throw fail("expected `\(literal)`") }
            guard b == byte else { throw fail("expected `\(literal)`") }
            position += 1
        }
        return value
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < 64 else { throw fail("nesting deeper than 64 levels") }
        guard let b = peek() else { throw fail("expected a value") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character `\(Unicode.Scalar(b))`")
        }
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            let keyOffset = position
            let key = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected `:` after a key") }
            position += 1
            skipWhitespace()
            let item = try value(depth: depth + 1)
            guard members.updateValue(item, forKey: key) == nil else {
                throw JSONSyntaxError(offset: keyOffset, reason: "duplicate key \"\(key)\"", isTruncated: false)
            }
            skipWhitespace()
            guard let b = peek() else { throw fail("expected `,` or `}`") }
            position += 1
            if b == UInt8(ascii: "}") { return .object(members) }
            guard b == UInt8(ascii: ",") else { position -= 1; throw fail("expected `,` or `}`") }
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard let b = peek() else { throw fail("expected `,` or `]`") }
            position += 1
            if b == UInt8(ascii: "]") { return .array(items) }
            guard b == UInt8(ascii: ",") else { position -= 1; throw fail("expected `,` or `]`") }
        }
    }

    mutating func number() throws(JSONSyntaxError) -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        guard isDigit(peek()) else { throw fail("expected a digit") }
        if peek() == UInt8(ascii: "0") {
            position += 1
            if isDigit(peek()) { throw fail("a number may not start with 0") }
        } else {
            while isDigit(peek()) { position += 1 }
        }
        var integral = true
        if peek() == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard isDigit(peek()) else { throw fail("expected a digit after `.`") }
            while isDigit(peek()) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard isDigit(peek()) else { throw fail("expected a digit in the exponent") }
            while isDigit(peek()) { position += 1 }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let i = Int64(text) { return .integer(i) }
        return .number(text)
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var run = position   // start of the current run of plain bytes
        func flush(_ end: Int, into scalars: inout String.UnicodeScalarView) {
            if end > run { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard let b = peek() else { throw fail("unterminated string") }
            if b == UInt8(ascii: "\"") {
                flush(position, into: &scalars)
                position += 1
                return String(scalars)
            }
            if b < 0x20 { throw fail("control character in a string (escape it)") }
            if b == UInt8(ascii: "\\") {
                flush(position, into: &scalars)
                position += 1
                guard let e = peek() else { throw fail("unterminated escape") }
                position += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let unit = try hex4()
                    if (0xD800...0xDBFF).contains(unit) {
                        guard peek() == UInt8(ascii: "\\") else { throw fail("lone surrogate in \\u escape") }
                        position += 1
                        guard peek() == UInt8(ascii: "u") else { throw fail("lone surrogate in \\u escape") }
                        position += 1
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in \\u escape") }
                        scalars.append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw fail("lone surrogate in \\u escape")
                    } else {
                        scalars.append(Unicode.Scalar(unit)!)
                    }
                default: position -= 1; throw fail("unknown escape")
                }
                run = position
                continue
            }
            if b >= 0x80 {
                // Validate one UTF-8 sequence.
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0
                guard length > 0, position + length <= bytes.count else { throw fail("invalid UTF-8") }
                let sequence = bytes[position..<position + length]
                var decoder = UTF8()
                var iterator = sequence.makeIterator()
                guard case .scalarValue = decoder.decode(&iterator) else { throw fail("invalid UTF-8") }
                guard iterator.next() == nil else { throw fail("invalid UTF-8") }
                position += length
                continue
            }
            position += 1
        }
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("short \\u escape") }
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - 0x41 + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            unit = unit << 4 | digit
            position += 1
        }
        return unit
    }
}
