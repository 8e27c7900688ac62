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
    public var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// `canonicalText` as UTF-8.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out, indent: 0, pretty: true)
        out.append(0x0A)
        return out
    }

    /// The canonical text with no whitespace at all, for content hashes.
    public var compactText: String { String(decoding: compactBytes, as: UTF8.self) }

    /// `compactText` as UTF-8.
    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out, indent: 0, pretty: false)
        return out
    }

    // Bytes, not String: a plan of 100,000 chunks is tens of megabytes, written once and hashed per chunk.
    private func write(to out: inout [UInt8], indent: Int, pretty: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .integer(i): JSONGrammar.writeInteger(i, to: &out)
        case let .number(text): out.append(contentsOf: text.utf8)
        case let .string(s): JSONGrammar.writeString(s, to: &out)
        case let .array(items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { JSONValue.newline(&out, indent + 1) }
                item.write(to: &out, indent: indent + 1, pretty: pretty)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            if members.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            // Byte order, not String's Unicode ordering, so any other canonical writer agrees.
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            var first = true
            for (key, value) in sorted {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { JSONValue.newline(&out, indent + 1) }
                JSONGrammar.writeString(key, to: &out)
                if pretty { out.append(contentsOf: ": ".utf8) } else { out.append(UInt8(ascii: ":")) }
                value.write(to: &out, indent: indent + 1, pretty: pretty)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        for _ in 0..<(2 * indent) { out.append(0x20) }
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

extension JSONValue {
    /// Parses like `init(parsing:)`, except that each element of the root object's arrays named in
    /// `streamed` goes to `element` (key, index, value) as soon as it is read and is not kept: the
    /// root keeps an empty array in its place. A plan's 100,000 chunks are then never one tree.
    /// The root must still be a single valid document; a syntax error anywhere throws.
    static func parsingStreamed(_ bytes: some Collection<UInt8>, arrays streamed: Set<String>,
                                element: (String, Int, JSONValue) -> Void) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        parser.skipWhitespace()
        let value: JSONValue
        if parser.peek() == UInt8(ascii: "{") {
            value = try parser.object(depth: 0, streamed: streamed, element: element)
        } else {
            value = try parser.value(depth: 0)
        }
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.fail("unexpected text after the document") }
        return value
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
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
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
        try object(depth: depth, streamed: [], element: { _, _, _ in })
    }

    /// An object; the elements of its arrays under `streamed` keys go to `element` instead of into it.
    mutating func object(depth: Int, streamed: Set<String>,
                         element: (String, Int, JSONValue) -> Void) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        // Room for a chunk's nine members up front: growing 1, 2, 4, 8, 16 was a tenth of reading a plan.
        var members: [String: JSONValue] = Dictionary(minimumCapacity: 9)
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
            let item: JSONValue
            if !streamed.isEmpty, streamed.contains(key), peek() == UInt8(ascii: "[") {
                var index = 0
                try elements(depth: depth + 1) { value in
                    element(key, index, value)
                    index += 1
                }
                item = .array([])
            } else {
                item = try value(depth: depth + 1)
            }
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
        var items: [JSONValue] = []
        try elements(depth: depth) { items.append($0) }
        return .array(items)
    }

    /// Reads an array, handing each element to `body` in order.
    mutating func elements(depth: Int, _ body: (JSONValue) -> Void) throws(JSONSyntaxError) {
        position += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            skipWhitespace()
            body(try value(depth: depth + 1))
            skipWhitespace()
            guard let b = peek() else { throw fail("expected `,` or `]`") }
            position += 1
            if b == UInt8(ascii: "]") { return }
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
        do {
            let (text, end) = try JSONGrammar.readString(bytes, at: position)
            position = end
            return text
        } catch {
            position = error.offset
            throw fail(error.reason)
        }
    }
}
