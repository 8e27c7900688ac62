/// A plan (format `barfill.plan`, version 1): which bars are missing and the provider requests
/// that fill them. Written by `barfill gaps`, reviewed in a pull request, run by `barfill apply`.
/// Its text form is canonical (see `encoded()`), so two scans of unchanged data differ only in
/// `created_at`.
public struct Plan: Sendable, Hashable {
    public static let format = "barfill.plan"
    public static let version = 1

    public var createdAt: Int64
    public var calendar: Calendar
    public var window: Window
    public var source: Source
    /// What the plan does, computed from `series` and `chunks` (see `Summary.init(series:chunks:limits:)`).
    public var summary: Summary
    /// Every series the scan looked at, sorted by (symbol, timeframe, provider).
    public var series: [Series]
    /// Sorted by (symbol, timeframe, from).
    public var chunks: [Chunk]

    /// Builds a plan, sorting `series` and `chunks` into their canonical order and computing the summary.
    public init(createdAt: Int64, calendar: Calendar, window: Window, source: Source,
                series: [Series], chunks: [Chunk], limits: ProviderLimits = .default) {
        self.createdAt = createdAt
        self.calendar = calendar
        self.window = window
        self.source = source
        self.series = series.sorted(by: Series.canonicalOrder)
        self.chunks = chunks.sorted(by: Chunk.canonicalOrder)
        self.summary = Summary(series: self.series, chunks: self.chunks, limits: limits)
    }

    /// The market calendar and grid the plan's slots come from.
    public struct Calendar: Sendable, Hashable {
        /// `XNYS`.
        public var name: String
        /// The grid options as `GridOptions.description` writes them: `clock/regular/start-inside`, with
        /// `/first-session` appended when weekly and monthly bars are keyed on their first session.
        public var grid: String
        /// The calendar rules' version, so `apply` can tell a plan made under other holiday rules.
        public var version: String

        public init(name: String, grid: String, version: String) {
            self.name = name
            self.grid = grid
            self.version = version
        }
    }

    /// The scan window: slots starting at or after `from` and ended by `until`.
    public struct Window: Sendable, Hashable {
        public var from: Int64
        public var until: Int64

        public init(from: Int64, until: Int64) {
            self.from = from
            self.until = until
        }
    }

    /// Where the bars were scanned: a host name (or socket directory) and a database name, never
    /// a user, password or URL. Informational: `apply` connects where it is told, not here.
    public struct Source: Sendable, Hashable {
        public var host: String
        public var database: String

        public init(host: String, database: String) {
            self.host = host
            self.database = database
        }
    }

    /// Totals a reviewer reads first.
    public struct Summary: Sendable, Hashable {
        /// Series listed in the plan (every series the scan looked at).
        public var series: Int
        /// Gap entries across all chunks: a gap split over two requests counts twice.
        public var gaps: Int
        public var missingBars: Int
        /// Bars present but not on the grid, over all listed series.
        public var offGrid: Int
        public var chunks: Int
        /// HTTP requests per provider; providers with none are left out.
        public var requests: [ProviderName: Int]
        /// Seconds `apply` needs under the rate limits the plan was made with (see `ProviderLimits.seconds(for:)`).
        public var estimatedSeconds: Int

        public init(series: Int, gaps: Int, missingBars: Int, offGrid: Int, chunks: Int,
                    requests: [ProviderName: Int], estimatedSeconds: Int) {
            self.series = series
            self.gaps = gaps
            self.missingBars = missingBars
            self.offGrid = offGrid
            self.chunks = chunks
            self.requests = requests
            self.estimatedSeconds = estimatedSeconds
        }

        /// The summary of these series and chunks.
        public init(series: [Series], chunks: [Chunk], limits: ProviderLimits = .default) {
            var requests: [ProviderName: Int] = [:]
            for chunk in chunks { requests[chunk.provider, default: 0] += chunk.requests }
            self.init(series: series.count,
                      gaps: chunks.reduce(0) { $0 + $1.gaps.count },
                      missingBars: chunks.reduce(0) { $0 + $1.missingBars },
                      offGrid: series.reduce(0) { $0 + $1.offGrid },
                      chunks: chunks.count,
                      requests: requests,
                      estimatedSeconds: limits.seconds(for: requests))
        }

        /// Total HTTP requests over all providers.
        public var totalRequests: Int { requests.values.reduce(0, +) }
    }

    /// One (symbol, timeframe) series as scanned, with its fingerprint for staleness checks.
    public struct Series: Sendable, Hashable {
        public var symbol: Ticker
        public var timeframe: Timeframe
        public var provider: ProviderName
        public var from: Int64
        public var until: Int64
        public var expected: Int
        public var present: Int
        public var offGrid: Int
        public var fingerprint: String

        public init(symbol: Ticker, timeframe: Timeframe, provider: ProviderName, from: Int64, until: Int64,
                    expected: Int, present: Int, offGrid: Int, fingerprint: String) {
            self.symbol = symbol
            self.timeframe = timeframe
            self.provider = provider
            self.from = from
            self.until = until
            self.expected = expected
            self.present = present
            self.offGrid = offGrid
            self.fingerprint = fingerprint
        }

        static func canonicalOrder(_ a: Series, _ b: Series) -> Bool {
            (a.symbol, a.timeframe, a.provider) < (b.symbol, b.timeframe, b.provider)
        }
    }

    /// A run of missing slots inside a chunk. `from` is the first missing slot's start, `to` the
    /// last one's end (exclusive); a gap split between chunks keeps its kind in every piece.
    public struct ChunkGap: Sendable, Hashable {
        public var from: Int64
        public var to: Int64
        public var bars: Int
        public var kind: GapKind

        public init(from: Int64, to: Int64, bars: Int, kind: GapKind) {
            self.from = from
            self.to = to
            self.bars = bars
            self.kind = kind
        }
    }

    /// One provider request window of one series and the missing slots it fills.
    /// `id` is the hash of everything else, so a chunk edited by hand no longer matches it.
    public struct Chunk: Sendable, Hashable, Identifiable {
        public private(set) var id: String
        public var symbol: Ticker
        public var timeframe: Timeframe
        public var provider: ProviderName
        /// The request window, half-open: from the first missing slot's start to the last one's end.
        public var from: Int64
        public var to: Int64
        /// HTTP calls the provider needs for this window.
        public var requests: Int
        public var missingBars: Int
        public var gaps: [ChunkGap]

        /// Builds a chunk and its content id; `missingBars` is the sum of the gaps' bars.
        public init(symbol: Ticker, timeframe: Timeframe, provider: ProviderName, from: Int64, to: Int64,
                    requests: Int, gaps: [ChunkGap]) {
            self.symbol = symbol
            self.timeframe = timeframe
            self.provider = provider
            self.from = from
            self.to = to
            self.requests = requests
            self.missingBars = gaps.reduce(0) { $0 + $1.bars }
            self.gaps = gaps
            self.id = ""
            self.id = computedID
        }

        /// As read from a file: `id` is taken as written (decoding checks it against `computedID`).
        init(id: String, symbol: Ticker, timeframe: Timeframe, provider: ProviderName, from: Int64, to: Int64,
             requests: Int, missingBars: Int, gaps: [ChunkGap]) {
            self.id = id
            self.symbol = symbol
            self.timeframe = timeframe
            self.provider = provider
            self.from = from
            self.to = to
            self.requests = requests
            self.missingBars = missingBars
            self.gaps = gaps
        }

        /// Hex characters of SHA-256 kept in a chunk id: 96 bits, short enough for a log line,
        /// far beyond what anyone could collide by editing a chunk.
        public static let idLength = 24

        /// The id this chunk's content hashes to.
        public var computedID: String { String(SHA256.hex(contentBytes).prefix(Chunk.idLength)) }

        static func contentID(of content: JSONValue) -> String {
            String(SHA256.hex(content.compactBytes).prefix(idLength))
        }

        static func canonicalOrder(_ a: Chunk, _ b: Chunk) -> Bool {
            if a.symbol != b.symbol { return a.symbol < b.symbol }
            if a.timeframe != b.timeframe { return a.timeframe < b.timeframe }
            if a.from != b.from { return a.from < b.from }
            if a.provider != b.provider { return a.provider < b.provider }
            return a.id < b.id
        }
    }
}

// MARK: - Canonical JSON

extension Plan {
    /// The plan's canonical text as UTF-8: sorted keys, two-space indent, trailing newline.
    /// Written member by member (`CanonicalJSONWriter`): the same bytes as `json.canonicalBytes`.
    public func encoded() -> [UInt8] {
        var writer = CanonicalJSONWriter(pretty: true, capacity: 512 + 450 * chunks.count + 300 * series.count)
        write(to: &writer, withCreatedAt: true)
        var out = writer.out
        out.append(0x0A)
        return out
    }

    /// The plan's canonical text.
    public var text: String { String(decoding: encoded(), as: UTF8.self) }

    /// A hash of the plan's content apart from `created_at`: two plans of unchanged data share it.
    /// The hash of `json` without `created_at`, compact, written without building the tree.
    public var contentHash: String {
        var writer = CanonicalJSONWriter(hashingPretty: false)
        write(to: &writer, withCreatedAt: false)
        return writer.hex()
    }

    /// The plan as a JSON tree: the reference the streaming writer is tested against.
    var json: JSONValue {
        .object([
            "format": .string(Plan.format),
            "version": .integer(Int64(Plan.version)),
            "created_at": .string(UTC.format(createdAt)),
            "calendar": .object([
                "name": .string(calendar.name),
                "grid": .string(calendar.grid),
                "version": .string(calendar.version),
            ]),
            "window": .object(["from": .string(UTC.format(window.from)), "until": .string(UTC.format(window.until))]),
            "source": .object(["host": .string(source.host), "database": .string(source.database)]),
            "summary": summary.json,
            "series": .array(series.map(\.json)),
            "chunks": .array(chunks.map(\.json)),
        ])
    }
}

extension Plan.Summary {
    var json: JSONValue {
        var requestMembers: [String: JSONValue] = [:]
        for (provider, n) in requests { requestMembers[provider.rawValue] = .integer(Int64(n)) }
        return .object([
            "series": .integer(Int64(series)),
            "gaps": .integer(Int64(gaps)),
            "missing_bars": .integer(Int64(missingBars)),
            "off_grid": .integer(Int64(offGrid)),
            "chunks": .integer(Int64(chunks)),
            "requests": .object(requestMembers),
            "estimated_seconds": .integer(Int64(estimatedSeconds)),
        ])
    }
}

extension Plan.Series {
    var json: JSONValue {
        .object([
            "symbol": .string(symbol.value),
            "timeframe": .string(timeframe.rawValue),
            "provider": .string(provider.rawValue),
            "from": .string(UTC.format(from)),
            "until": .string(UTC.format(until)),
            "expected": .integer(Int64(expected)),
            "present": .integer(Int64(present)),
            "off_grid": .integer(Int64(offGrid)),
            "fingerprint": .string(fingerprint),
        ])
    }
}

extension Plan.ChunkGap {
    var json: JSONValue {
        .object([
            "from": .string(UTC.format(from)),
            "to": .string(UTC.format(to)),
            "bars": .integer(Int64(bars)),
            "kind": .string(kind.rawValue),
        ])
    }
}

extension Plan.Chunk {
    /// Everything but `id`: what the id hashes.
    var contentJSON: JSONValue {
        .object([
            "symbol": .string(symbol.value),
            "timeframe": .string(timeframe.rawValue),
            "provider": .string(provider.rawValue),
            "from": .string(UTC.format(from)),
            "to": .string(UTC.format(to)),
            "requests": .integer(Int64(requests)),
            "missing_bars": .integer(Int64(missingBars)),
            "gaps": .array(gaps.map(\.json)),
        ])
    }

    /// `contentJSON.compactBytes`, written by `CanonicalJSONWriter`: a plan of 100,000 chunks hashes
    /// each one on write and again on read, and building and sorting a dictionary per chunk cost
    /// more than the hash. A test holds the two equal.
    var contentBytes: [UInt8] {
        var writer = CanonicalJSONWriter(pretty: false, capacity: 200 + 100 * gaps.count)
        write(to: &writer, withID: false)
        return writer.out
    }

    var json: JSONValue {
        guard case var .object(members) = contentJSON else { return contentJSON }
        members["id"] = .string(id)
        return .object(members)
    }
}
