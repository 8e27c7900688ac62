extension Plan {
    /// The earliest and latest instants a plan may name: the calendar's range, 1990 through 2040.
    public static let earliest: Int64 = LocalDate(year: 1990, month: 1, day: 1)!.utcMidnight
    public static let latest: Int64 = LocalDate(year: 2041, month: 1, day: 1)!.utcMidnight

    /// Reads a plan strictly: every field present with its documented type and nothing else,
    /// integers only, UTC times, known timeframes, providers and kinds, valid tickers, sane
    /// windows, chunks no wider than their provider serves and whose content matches their id.
    /// Chunks may be missing (deleted in review): the summary is then recomputed, not trusted.
    public init(decoding bytes: some Collection<UInt8>, limits: ProviderLimits = .default) throws(PlanError) {
        // Series and chunks are read into their structs one element at a time while the text is
        // parsed (a tree of a 100,000-chunk plan took most of its reader's memory). Their first
        // error is kept and thrown where the checks below reach it, so errors come in the same
        // order as when every field was checked after parsing.
        var streamedSeries = StreamedEntries<Series>()
        var streamedChunks = StreamedEntries<Chunk>()
        var ids: Set<String> = []
        let root: JSONValue
        do {
            root = try JSONValue.parsingStreamed(bytes, arrays: ["series", "chunks"]) { key, n, item in
                if key == "series" {
                    streamedSeries.read { () throws(PlanError) -> Series in
                        var fields = try Fields(item, path: "series[\(n)]")
                        let entry = try Series(&fields)
                        try fields.finish()
                        try Plan.checkWindow(from: entry.from, to: entry.until, path: "series[\(n)]")
                        return entry
                    }
                } else {
                    streamedChunks.read { () throws(PlanError) -> Chunk in
                        var fields = try Fields(item, path: "chunks[\(n)]")
                        let chunk = try Chunk(&fields)
                        try fields.finish()
                        let computed = chunk.computedID
                        guard chunk.id == computed else { throw .editedChunk(id: chunk.id, expected: computed) }
                        guard ids.insert(chunk.id).inserted else { throw .duplicateChunk(id: chunk.id) }
                        try chunk.check(limits: limits)
                        return chunk
                    }
                }
            }
        } catch { throw .notJSON(reason: error.description) }
        guard case let .object(members) = root else { throw .notAPlan(reason: "the document is \(root.typeName), not an object") }
        guard let format = members["format"] else { throw .notAPlan(reason: "it has no `format` field") }
        guard case let .string(formatName) = format, formatName == Plan.format else {
            throw .notAPlan(reason: "its `format` is \(format.compactText), not \"\(Plan.format)\"")
        }
        guard let version = members["version"] else { throw .missingField(path: "version") }
        guard version == .integer(Int64(Plan.version)) else { throw .unsupportedVersion(found: version.compactText) }

        var top = try Fields(root, path: "")
        _ = try top.take("format")
        _ = try top.take("version")
        let createdAt = try top.time("created_at")

        var calendarFields = try top.object("calendar")
        let calendarName = try calendarFields.string("name")
        guard calendarName == "XNYS" else { throw .unknownCalendar(name: calendarName) }
        let grid = try calendarFields.string("grid", matching: Plan.isGridText,
                                             expected: "anchor/scope/inclusion[/first-session], e.g. clock/regular/start-inside")
        let calendarVersion = try calendarFields.string("version", matching: Plan.isVersionText,
                                                        expected: "a version of 1–64 letters, digits, `.`, `_` or `-`")
        try calendarFields.finish()

        var windowFields = try top.object("window")
        let window = Window(from: try windowFields.time("from"), until: try windowFields.time("until"))
        try windowFields.finish()
        try Plan.checkWindow(from: window.from, to: window.until, path: "window")

        var sourceFields = try top.object("source")
        let source = Source(
            host: try sourceFields.string("host", matching: Plan.isHostText, expected: Plan.hostExpectation),
            database: try sourceFields.string("database", matching: Plan.isDatabaseText,
                                              expected: Plan.databaseExpectation))
        try sourceFields.finish()

        var summaryFields = try top.object("summary")
        let written = try Summary(&summaryFields)
        try summaryFields.finish()

        var series: [Series] = []
        var seriesKeys: [SeriesKey: Series] = [:]
        _ = try top.array("series")
        for (n, entry) in streamedSeries.entries.enumerated() {
            guard entry.from >= window.from, entry.until <= window.until else {
                throw .absurdWindow(path: "series[\(n)]", reason: "it reaches outside the plan's window")
            }
            let key = SeriesKey(symbol: entry.symbol.value, timeframe: entry.timeframe)
            guard seriesKeys.updateValue(entry, forKey: key) == nil else { throw .duplicateSeries(path: "series[\(n)]") }
            series.append(entry)
        }
        if let error = streamedSeries.error { throw error }
        streamedSeries.entries = []

        var chunks: [Chunk] = []
        chunks.reserveCapacity(streamedChunks.entries.count)
        _ = try top.array("chunks")
        for chunk in streamedChunks.entries {
            guard let owner = seriesKeys[SeriesKey(chunk)] else {
                throw .chunkOutsideSeries(id: chunk.id, reason: "is for \(chunk.symbol) \(chunk.timeframe.rawValue), a series the plan does not list")
            }
            guard owner.provider == chunk.provider else {
                throw .chunkOutsideSeries(id: chunk.id, reason: "names provider \(chunk.provider.rawValue), but its series is planned with \(owner.provider.rawValue)")
            }
            guard chunk.from >= owner.from, chunk.to <= owner.until else {
                throw .chunkOutsideSeries(id: chunk.id, reason: "reaches outside its series' scanned window")
            }
            chunks.append(chunk)
        }
        if let error = streamedChunks.error { throw error }
        streamedChunks.entries = []
        try top.finish()

        // Every gap on the plan's grid: what `apply` needs to turn it back into slots.
        let options = GridOptions(description: grid) ?? .default
        var grids: [Timeframe: Grid] = [:]
        for chunk in chunks {
            let slots = grids[chunk.timeframe] ?? Grid(timeframe: chunk.timeframe, options: options)
            grids[chunk.timeframe] = slots
            for (n, gap) in chunk.gaps.enumerated() where gap.ordinals(on: slots) == nil {
                throw .gapOffGrid(id: chunk.id, gap: n, grid: grid)
            }
        }

        chunks.sort(by: Chunk.canonicalOrder)
        for (a, b) in zip(chunks, chunks.dropFirst())
        where a.symbol == b.symbol && a.timeframe == b.timeframe && b.from < a.to {
            throw .overlappingChunks(id: b.id, other: a.id)
        }

        self.init(createdAt: createdAt, calendar: Calendar(name: calendarName, grid: grid, version: calendarVersion),
                  window: window, source: source, series: series, chunks: chunks, limits: limits)
        // The written estimate depends on the rates the plan was made under; keep it while the
        // counts agree (an untouched file), recompute everything once chunks were deleted.
        var counted = summary
        counted.estimatedSeconds = written.estimatedSeconds
        if counted == written { summary = written }
    }

    /// Entries of a streamed array read up to its first error, which stops the reading.
    private struct StreamedEntries<Entry> {
        var entries: [Entry] = []
        var error: PlanError?

        mutating func read(_ decode: () throws(PlanError) -> Entry) {
            guard error == nil else { return }
            do { entries.append(try decode()) } catch { self.error = error }
        }
    }

    static func checkWindow(from: Int64, to: Int64, path: String) throws(PlanError) {
        guard from < to else {
            throw .absurdWindow(path: path, reason: "it ends (\(UTC.format(to))) no later than it starts (\(UTC.format(from)))")
        }
        guard from >= earliest, to <= latest else {
            throw .absurdWindow(path: path, reason: "it reaches outside 1990–2040, the calendar's range")
        }
    }

    /// Exactly what `GridOptions.description` writes, so the plan names one grid one way.
    static func isGridText(_ text: String) -> Bool {
        GridOptions(description: text)?.description == text
    }

    static func isVersionText(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    static let hostExpectation = "host names or IP addresses (comma-separated, as libpq takes them) or a socket directory, with no user, password or URL"
    static let databaseExpectation = "a database name of 1–63 letters, digits, `_`, `.` or `-`"
    static let fingerprintExpectation = "16–64 lowercase hex digits"

    /// Host names or IP addresses (a libpq host list: `a,b`), or an absolute socket directory;
    /// never `user@`, `://`, `?` or spaces.
    static func isHostText(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 255 else { return false }
        if bytes.first == 0x2F {
            return !text.contains("//") && bytes.allSatisfy { isAlnum($0) || [0x2E, 0x5F, 0x2D, 0x2F].contains($0) }
        }
        return bytes.allSatisfy { isAlnum($0) || [0x2E, 0x5F, 0x2D, 0x3A, 0x2C].contains($0) }
    }

    static func isFingerprintText(_ text: String) -> Bool { isHex(text, count: 16...64) }

    static func isDatabaseText(_ text: String) -> Bool {
        (1...63).contains(text.utf8.count) && text.utf8.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    static func isHex(_ text: String, count: ClosedRange<Int>) -> Bool {
        count.contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

extension Plan.Summary {
    fileprivate init(_ fields: inout Fields) throws(PlanError) {
        let series = try fields.count("series")
        let gaps = try fields.count("gaps")
        let missingBars = try fields.count("missing_bars")
        let offGrid = try fields.count("off_grid")
        let chunks = try fields.count("chunks")
        var requestFields = try fields.object("requests")
        var requests: [ProviderName: Int] = [:]
        for key in requestFields.keys {
            guard let provider = ProviderName(rawValue: key) else {
                throw .unknownProvider(path: requestFields.path + "." + key, text: key)
            }
            requests[provider] = try requestFields.count(key)
        }
        try requestFields.finish()
        self.init(series: series, gaps: gaps, missingBars: missingBars, offGrid: offGrid, chunks: chunks,
                  requests: requests, estimatedSeconds: try fields.count("estimated_seconds"))
    }
}

extension Plan.Series {
    fileprivate init(_ fields: inout Fields) throws(PlanError) {
        self.init(symbol: try fields.ticker("symbol"), timeframe: try fields.timeframe("timeframe"),
                  provider: try fields.provider("provider"), from: try fields.time("from"), until: try fields.time("until"),
                  expected: try fields.count("expected"), present: try fields.count("present"),
                  offGrid: try fields.count("off_grid"),
                  fingerprint: try fields.string("fingerprint", matching: Plan.isFingerprintText,
                                                 expected: Plan.fingerprintExpectation))
    }
}

extension Plan.Chunk {
    fileprivate init(_ fields: inout Fields) throws(PlanError) {
        let id = try fields.string("id", matching: { Plan.isHex($0, count: Plan.Chunk.idLength...Plan.Chunk.idLength) },
                                   expected: "\(Plan.Chunk.idLength) lowercase hex digits")
        var gaps: [Plan.ChunkGap] = []
        for (n, item) in try fields.array("gaps").enumerated() {
            var gapFields = try Fields(item, path: fields.path + ".gaps[\(n)]")
            gaps.append(Plan.ChunkGap(from: try gapFields.time("from"), to: try gapFields.time("to"),
                                      bars: try gapFields.count("bars", minimum: 1), kind: try gapFields.kind("kind")))
            try gapFields.finish()
        }
        self.init(id: id, symbol: try fields.ticker("symbol"), timeframe: try fields.timeframe("timeframe"),
                  provider: try fields.provider("provider"), from: try fields.time("from"), to: try fields.time("to"),
                  requests: try fields.count("requests", minimum: 1), missingBars: try fields.count("missing_bars", minimum: 1),
                  gaps: gaps)
    }

    /// The checks a chunk's own content must pass, whatever its id says: a forged id does not
    /// make an impossible chunk acceptable.
    func check(limits: ProviderLimits) throws(PlanError) {
        guard from < to else {
            throw .absurdWindow(path: "chunk \(id)", reason: "it ends (\(UTC.format(to))) no later than it starts (\(UTC.format(from)))")
        }
        guard from >= Plan.earliest, to <= Plan.latest else {
            throw .absurdWindow(path: "chunk \(id)", reason: "it reaches outside 1990–2040, the calendar's range")
        }
        guard !gaps.isEmpty else { throw .inconsistentChunk(id: id, reason: "it lists no gaps") }
        for (n, gap) in gaps.enumerated() {
            guard gap.from < gap.to, gap.from >= from, gap.to <= to else { throw .gapOutsideChunk(id: id, gap: n) }
            if n > 0, gap.from < gaps[n - 1].to { throw .overlappingGaps(id: id, gap: n) }
            let most = Plan.mostSlots(timeframe, from: gap.from, to: gap.to)
            guard gap.bars <= most else {
                throw .inconsistentChunk(id: id, reason: "gap \(n) claims \(gap.bars) \(timeframe.rawValue) bars between \(UTC.format(gap.from)) and \(UTC.format(gap.to)), where at most \(most) fit")
            }
        }
        let sum = gaps.reduce(0) { $0 + $1.bars }
        guard sum == missingBars else {
            throw .inconsistentChunk(id: id, reason: "missing_bars is \(missingBars) but its gaps add up to \(sum)")
        }
        if let reason = limits.excess(of: self) { throw .chunkTooWide(id: id, reason: reason) }
    }
}

extension Plan {
    /// An upper bound on how many slots of `timeframe` fit in [from, to), from the shortest
    /// distance between two slot starts (a DST night makes a local day 23 hours).
    static func mostSlots(_ timeframe: Timeframe, from: Int64, to: Int64) -> Int {
        let spacing: Int64 = switch timeframe {
        case .d1: 23 * 3_600
        case .w1: 7 * 86_400 - 3_600
        case .mn1: 28 * 86_400 - 3_600
        default: timeframe.intradaySeconds!
        }
        return timeframe.isIntraday ? Int((to - from) / spacing) : Int((to - from) / spacing) + 1
    }
}

/// The members of one JSON object being read: each field is taken once, and whatever is left
/// at `finish()` is a field the format does not have.
struct Fields {
    let path: String
    private let members: [String: JSONValue]
    /// Keys read so far. Taking leaves `members` shared with the parsed document rather than
    /// copying the dictionary to remove from it (a copy per chunk and per gap of a big plan).
    private var taken: [String] = []

    init(_ value: JSONValue, path: String) throws(PlanError) {
        guard case let .object(members) = value else {
            throw .wrongType(path: path.isEmpty ? "(document)" : path, expected: "an object", found: value.typeName)
        }
        self.path = path
        self.members = members
    }

    /// The keys not taken yet, sorted.
    var keys: [String] { members.keys.filter { !taken.contains($0) }.sorted() }

    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    mutating func take(_ key: String) throws(PlanError) -> JSONValue {
        guard !taken.contains(key), let value = members[key] else { throw .missingField(path: child(key)) }
        taken.append(key)
        return value
    }

    func finish() throws(PlanError) {
        guard taken.count < members.count else { return }
        if let extra = keys.first { throw .unexpectedField(path: child(extra)) }
    }

    mutating func object(_ key: String) throws(PlanError) -> Fields {
        try Fields(try take(key), path: child(key))
    }

    mutating func array(_ key: String) throws(PlanError) -> [JSONValue] {
        let value = try take(key)
        guard case let .array(items) = value else { throw .wrongType(path: child(key), expected: "an array", found: value.typeName) }
        return items
    }

    mutating func string(_ key: String) throws(PlanError) -> String {
        let value = try take(key)
        guard case let .string(text) = value else { throw .wrongType(path: child(key), expected: "a string", found: value.typeName) }
        return text
    }

    mutating func string(_ key: String, matching valid: (String) -> Bool, expected: String) throws(PlanError) -> String {
        let text = try string(key)
        guard valid(text) else { throw .malformedText(path: child(key), text: text, expected: expected) }
        return text
    }

    mutating func count(_ key: String, minimum: Int64 = 0) throws(PlanError) -> Int {
        let value = try take(key)
        switch value {
        case let .integer(i):
            guard i >= minimum else { throw .badCount(path: child(key), value: i, minimum: minimum) }
            return Int(i)
        case let .number(text): throw .notAnInteger(path: child(key), found: text)
        default: throw .wrongType(path: child(key), expected: "an integer", found: value.typeName)
        }
    }

    /// Exactly `YYYY-MM-DDTHH:MM:SSZ`: the only form `UTC.format` writes.
    mutating func time(_ key: String) throws(PlanError) -> Int64 {
        let text = try string(key)
        // canonicalTime accepts only the 20-byte form with a real date and in-range clock fields,
        // which is exactly what UTC.format writes (a test holds them equal), so no round trip.
        guard let seconds = Fields.canonicalTime(text) else {
            throw .badTime(path: child(key), text: text)
        }
        return seconds
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` read digit by digit (a big plan holds a few hundred thousand), or nil.
    static func canonicalTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard bytes[i] >= 0x30, bytes[i] <= 0x39 else { return nil }
                value = value * 10 + Int(bytes[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              hour < 24, minute < 60, second < 60,
              let date = LocalDate(year: year, month: month, day: day) else { return nil }
        return date.utcMidnight + Int64(hour * 3_600 + minute * 60 + second)
    }

    mutating func ticker(_ key: String) throws(PlanError) -> Ticker {
        let text = try string(key)
        guard let ticker = Ticker(text) else { throw .malformedTicker(path: child(key), text: text) }
        return ticker
    }

    mutating func timeframe(_ key: String) throws(PlanError) -> Timeframe {
        let text = try string(key)
        guard let timeframe = Timeframe(rawValue: text) else { throw .unknownTimeframe(path: child(key), text: text) }
        return timeframe
    }

    mutating func provider(_ key: String) throws(PlanError) -> ProviderName {
        let text = try string(key)
        guard let provider = ProviderName(rawValue: text) else { throw .unknownProvider(path: child(key), text: text) }
        return provider
    }

    mutating func kind(_ key: String) throws(PlanError) -> GapKind {
        let text = try string(key)
        guard let kind = GapKind(rawValue: text) else { throw .unknownGapKind(path: child(key), text: text) }
        return kind
    }
}
