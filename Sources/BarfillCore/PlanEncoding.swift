/// The canonical JSON text written straight from values, member by member, for the plan: the same
/// bytes as `JSONValue.canonicalBytes`/`compactBytes` of `Plan.json` (a test holds them equal),
/// without building that tree — a plan of 100,000 chunks made a dictionary per chunk and per gap.
/// Callers name members in byte order of their keys, as the canonical text sorts them.
struct CanonicalJSONWriter {
    private(set) var out: [UInt8] = []
    let pretty: Bool
    /// When set, the text is hashed as it is written and `out` never holds more than a block of it.
    private var digest: SHA256?
    private var depth = 0
    /// No member or element written yet in the innermost open container.
    private var empty = true
    /// A key was just written: the next value follows it on the same line.
    private var afterKey = false

    init(pretty: Bool, capacity: Int = 0) {
        self.pretty = pretty
        out.reserveCapacity(capacity)
    }

    /// A writer that hashes its text instead of keeping it (`hex()` ends it): a plan's content hash
    /// without the tens of megabytes of its compact text.
    init(hashingPretty pretty: Bool) {
        self.pretty = pretty
        digest = SHA256()
        out.reserveCapacity(Self.hashBlock + 4_096)
    }

    private static let hashBlock = 1 << 16

    /// The SHA-256 (hex) of everything written, for a writer made with `init(hashingPretty:)`.
    consuming func hex() -> String {
        guard var digest else { return SHA256.hex(out) }
        digest.update(out)
        return SHA256.hexText(digest.finalize())
    }

    /// Comma and line break before an array element or an object member.
    private mutating func separate() {
        if digest != nil, out.count >= Self.hashBlock {
            digest!.update(out)
            out.removeAll(keepingCapacity: true)
        }
        if afterKey { afterKey = false; return }
        if depth == 0 { return }
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        if pretty { newline() }
    }

    private mutating func newline() {
        out.append(0x0A)
        for _ in 0..<(2 * depth) { out.append(0x20) }
    }

    mutating func key(_ name: StaticString) {
        separate()
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
        if pretty { out.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    /// A key that is data (a provider name), escaped like any string.
    mutating func key(_ name: String) {
        separate()
        JSONGrammar.writeString(name, to: &out)
        if pretty { out.append(contentsOf: ": ".utf8) } else { out.append(UInt8(ascii: ":")) }
        afterKey = true
    }

    mutating func string(_ value: String) {
        separate()
        JSONGrammar.writeString(value, to: &out)
    }

    /// A string known to need no escape (an enum's raw value, a validated ticker): copied as is,
    /// without the scan for characters to escape that every other string gets.
    mutating func plainString(_ value: String) {
        separate()
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\""))
    }

    /// The instant as `UTC.format` writes it, digit by digit into the text: a big plan holds a few
    /// hundred thousand, written once more for its content hash and once per chunk id on read.
    mutating func time(_ seconds: Int64) {
        separate()
        out.append(UInt8(ascii: "\""))
        if !UTC.write(seconds, to: &out) { out.append(contentsOf: UTC.format(seconds).utf8) }
        out.append(UInt8(ascii: "\""))
    }

    mutating func integer(_ value: Int64) {
        separate()
        JSONGrammar.writeInteger(value, to: &out)
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func object(_ members: (inout CanonicalJSONWriter) -> Void) {
        container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), members)
    }

    mutating func array(_ elements: (inout CanonicalJSONWriter) -> Void) {
        container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), elements)
    }

    private mutating func container(open: UInt8, close: UInt8, _ body: (inout CanonicalJSONWriter) -> Void) {
        separate()
        out.append(open)
        let outer = empty
        depth += 1
        empty = true
        body(&self)
        depth -= 1
        if !empty, pretty { newline() }
        out.append(close)
        empty = outer
        if depth == 0 { empty = false }
    }
}

extension Plan {
    /// Writes the plan, `created_at` included unless `withCreatedAt` is false (the content hash).
    func write(to writer: inout CanonicalJSONWriter, withCreatedAt: Bool) {
        writer.object { w in
            w.key("calendar")
            w.object { w in
                w.key("grid"); w.string(calendar.grid)
                w.key("name"); w.string(calendar.name)
                w.key("version"); w.string(calendar.version)
            }
            w.key("chunks")
            w.array { w in for chunk in chunks { chunk.write(to: &w, withID: true) } }
            if withCreatedAt { w.key("created_at"); w.time(createdAt) }
            w.key("format"); w.string(Plan.format)
            w.key("series")
            w.array { w in for entry in series { entry.write(to: &w) } }
            w.key("source")
            w.object { w in
                w.key("database"); w.string(source.database)
                w.key("host"); w.string(source.host)
            }
            w.key("summary"); summary.write(to: &w)
            w.key("version"); w.integer(Plan.version)
            w.key("window")
            w.object { w in
                w.key("from"); w.time(window.from)
                w.key("until"); w.time(window.until)
            }
        }
    }
}

extension Plan.Summary {
    func write(to w: inout CanonicalJSONWriter) {
        w.object { w in
            w.key("chunks"); w.integer(chunks)
            w.key("estimated_seconds"); w.integer(estimatedSeconds)
            w.key("gaps"); w.integer(gaps)
            w.key("missing_bars"); w.integer(missingBars)
            w.key("off_grid"); w.integer(offGrid)
            w.key("requests")
            w.object { w in
                for (provider, n) in requests.sorted(by: { $0.key.rawValue.utf8.lexicographicallyPrecedes($1.key.rawValue.utf8) }) {
                    w.key(provider.rawValue); w.integer(n)
                }
            }
            w.key("series"); w.integer(series)
        }
    }
}

extension Plan.Series {
    func write(to w: inout CanonicalJSONWriter) {
        w.object { w in
            w.key("expected"); w.integer(expected)
            w.key("fingerprint"); w.string(fingerprint)
            w.key("from"); w.time(from)
            w.key("off_grid"); w.integer(offGrid)
            w.key("present"); w.integer(present)
            w.key("provider"); w.plainString(provider.rawValue)
            w.key("symbol"); w.plainString(symbol.value)
            w.key("timeframe"); w.plainString(timeframe.rawValue)
            w.key("until"); w.time(until)
        }
    }
}

extension Plan.Chunk {
    /// The chunk's object; without `id` it is what the id hashes.
    func write(to w: inout CanonicalJSONWriter, withID: Bool) {
        w.object { w in
            w.key("from"); w.time(from)
            w.key("gaps")
            w.array { w in
                for gap in gaps {
                    w.object { w in
                        w.key("bars"); w.integer(gap.bars)
                        w.key("from"); w.time(gap.from)
                        w.key("kind"); w.plainString(gap.kind.rawValue)
                        w.key("to"); w.time(gap.to)
                    }
                }
            }
            if withID { w.key("id"); w.string(id) }
            w.key("missing_bars"); w.integer(missingBars)
            w.key("provider"); w.plainString(provider.rawValue)
            w.key("requests"); w.integer(requests)
            w.key("symbol"); w.plainString(symbol.value)
            w.key("timeframe"); w.plainString(timeframe.rawValue)
            w.key("to"); w.time(to)
        }
    }
}
