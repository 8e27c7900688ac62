import BarfillCore

/// How an upsert went: rows inserted, rows updated (only with `overwrite`), rows that were
/// already there (unchanged, or kept because `overwrite` was off).
public struct UpsertCounts: Sendable, Hashable {
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int

    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }
}

/// What `barfill.backfill_status` knows about one series.
public struct SeriesStatus: Sendable, Hashable {
    public var oldest: Int64?
    public var newest: Int64?
    public var verifiedFrom: Int64?
    public var verifiedThrough: Int64?
    public var grid: String?
    public var lastRunAt: Int64?
    public var lastResult: String?
}

/// A symbol row: its id (uuid text), ticker and `primary_source` label.
public struct SymbolRecord: Sendable, Hashable {
    public var id: String
    public var ticker: String
    public var primarySource: String
}

/// barfill's writes to `ohlc_bars` and its own tables, and the reads `apply` needs.
///
/// Every function runs inside the connection's open transaction when there is one (so `apply`
/// commits once per chunk: upsert, ledger and status together), else in its own.
public struct BarStore {
    public let connection: PostgresConnection
    /// The labels of the table's `timeframe` and `provider` enums (nil when the column is text).
    public let timeframeLabels: Set<String>?
    public let providerLabels: Set<String>?

    public init(connection: PostgresConnection) throws {
        self.connection = connection
        timeframeLabels = try Self.enumLabels(of: "timeframe", connection: connection)
        providerLabels = try Self.enumLabels(of: "provider", connection: connection)
    }

    private static func enumLabels(of column: String, connection: PostgresConnection) throws -> Set<String>? {
        let rows = try connection.query(PostgresQuery("enum labels", """
            SELECT e.enumlabel
            FROM pg_attribute a LEFT JOIN pg_enum e ON e.enumtypid = a.atttypid
            WHERE a.attrelid = 'ohlc_bars'::regclass AND a.attname = $1 AND NOT a.attisdropped
            """, [column]))
        guard rows.rowCount > 0 else { throw PostgresError.unexpectedResult("ohlc_bars has no \(column) column") }
        let label = try rows.column("enumlabel", as: String?.self)
        let labels = try rows.rows.compactMap { try $0.decode(label) }
        return labels.isEmpty ? nil : Set(labels)
    }

    /// Throws when the database's `timeframe` enum cannot hold `timeframe` (SwiftBolt's has m15 h1 h4 d1 w1).
    public func checkSupported(_ timeframe: Timeframe) throws(PostgresError) {
        if let labels = timeframeLabels, !labels.contains(timeframe.rawValue) {
            throw .invalidInput("timeframe \(timeframe.rawValue) is not in this database's timeframe enum (\(labels.sorted().joined(separator: ", ")))")
        }
    }

    /// The `data_provider` label to write for `provider`: Massive was Polygon.io, and older
    /// schemas only know 'polygon'.
    public func providerLabel(_ provider: ProviderName) throws(PostgresError) -> String {
        guard let labels = providerLabels else { return provider.rawValue }
        if labels.contains(provider.rawValue) { return provider.rawValue }
        if provider == .massive, labels.contains("polygon") { return "polygon" }
        throw .invalidInput("provider \(provider.rawValue) is not in this database's data_provider enum (\(labels.sorted().joined(separator: ", ")))")
    }

    // MARK: Symbols

    /// Symbols by ticker; tickers not in `symbols` are absent from the answer.
    public func symbols(tickers: [String]) throws -> [String: SymbolRecord] {
        let rows = try connection.query(PostgresQuery("symbols by ticker",
            "SELECT id::text AS id, ticker, primary_source::text AS primary_source FROM symbols WHERE ticker = ANY($1::text[])", [tickers]))
        let id = try rows.column("id", as: String.self), ticker = try rows.column("ticker", as: String.self)
        let primarySource = try rows.column("primary_source", as: String?.self)
        var found: [String: SymbolRecord] = [:]
        for row in rows.rows {
            let (id, ticker, primarySource) = try row.decode(id, ticker, primarySource)
            found[ticker] = SymbolRecord(id: id, ticker: ticker, primarySource: primarySource ?? "")
        }
        return found
    }

    public func symbolID(ticker: String) throws -> String {
        guard let record = try symbols(tickers: [ticker])[ticker] else {
            throw PostgresError.invalidInput("no symbol \(ticker) in the symbols table")
        }
        return record.id
    }

    // MARK: Upsert

    /// Writes `bars` of one series: COPY into a temp table dropped at commit, then one
    /// `INSERT … ON CONFLICT (symbol_id, timeframe, ts)`. Without `overwrite` existing rows are
    /// kept; with it, rows whose open/high/low/close/volume differ are updated.
    /// Bars with the same `ts` are written once (the last wins).
    @discardableResult
    public func upsert(bars: [Bar], symbolId: String, timeframe: Timeframe, provider: ProviderName,
                       overwrite: Bool = false) throws -> UpsertCounts {
        try checkSupported(timeframe)
        let label = try providerLabel(provider)
        let unique = Self.lastPerTimestamp(bars)
        guard !unique.isEmpty else { return UpsertCounts() }

        return try connection.withinTransaction { connection in
            // Column types copied from ohlc_bars itself: COPY parses enum labels, uuids and
            // numerics exactly as the table will, whatever the schema's types are.
            try connection.query("""
                CREATE TEMP TABLE IF NOT EXISTS barfill_incoming ON COMMIT DROP AS
                SELECT symbol_id, timeframe, ts, open, high, low, close, volume, provider FROM ohlc_bars WITH NO DATA
                """)
            try connection.query("TRUNCATE barfill_incoming")
            _ = try Self.copy(unique, into: "barfill_incoming", symbolId: symbolId, timeframe: timeframe, provider: label, on: connection)
            let counts = try connection.query(PostgresQuery(overwrite ? "upsert bars (overwrite)" : "upsert bars",
                                                            overwrite ? UpsertQuery.overwrite : UpsertQuery.keepExisting)).onlyRow()
            let inserted = try counts.decode("inserted", as: Int.self)
            let updated = try counts.decode("updated", as: Int.self)
            return UpsertCounts(inserted: inserted, updated: updated, unchanged: unique.count - inserted - updated)
        }
    }

    /// Inserts bars for slots the caller found empty (a chunk's precheck): COPY straight into
    /// `ohlc_bars`, which costs about half of the temp-table upsert. The COPY runs inside a
    /// savepoint; if another writer stored one of these bars since the precheck, the unique
    /// constraint refuses the COPY, the savepoint is rolled back and `upsert` does the work
    /// instead, so the outcome is the same either way: nothing duplicated, nothing overwritten.
    @discardableResult
    public func insertAbsent(bars: [Bar], symbolId: String, timeframe: Timeframe,
                             provider: ProviderName) throws -> UpsertCounts {
        try checkSupported(timeframe)
        let label = try providerLabel(provider)
        let unique = Self.lastPerTimestamp(bars)
        guard !unique.isEmpty else { return UpsertCounts() }

        return try connection.withinTransaction { connection in
            try connection.query("SAVEPOINT barfill_insert_absent")
            do {
                let copied = try Self.copy(unique, into: "ohlc_bars", symbolId: symbolId, timeframe: timeframe, provider: label, on: connection)
                try connection.query("RELEASE SAVEPOINT barfill_insert_absent")
                return UpsertCounts(inserted: copied)
            } catch let error as PostgresError where error.sqlState == .uniqueViolation {
                // A bar arrived since the precheck.
                try connection.query("ROLLBACK TO SAVEPOINT barfill_insert_absent")
                return try upsert(bars: unique, symbolId: symbolId, timeframe: timeframe, provider: provider)
            }
        }
    }

    /// One row per timestamp (the last bar given wins), in time order.
    private static func lastPerTimestamp(_ bars: [Bar]) -> [Bar] {
        var latest: [Int64: Bar] = [:]
        for bar in bars { latest[bar.ts] = bar }
        return latest.values.sorted { $0.ts < $1.ts }
    }

    /// COPYs bars of one series into `table` (`ohlc_bars` or the upsert's temp table; never input),
    /// with no conflict handling: a bar already stored makes the COPY fail. `provider` is the
    /// schema's `data_provider` label. Returns the number of rows written.
    public static func copy(_ bars: [Bar], into table: StaticString, symbolId: String, timeframe: Timeframe,
                             provider label: String, on connection: PostgresConnection) throws -> Int {
        try connection.copy("COPY \(table) (symbol_id, timeframe, ts, open, high, low, close, volume, provider) FROM STDIN") { writer in
            for bar in bars {
                writer.append(symbolId)
                writer.append(timeframe.rawValue)
                writer.appendTimestamp(bar.ts)
                try writer.append(bar.open)
                try writer.append(bar.high)
                try writer.append(bar.low)
                try writer.append(bar.close)
                try writer.append(bar.volume)
                writer.append(label)
                try writer.endRow()
            }
        }
    }

    /// `upsert` for a ticker from the `symbols` table.
    @discardableResult
    public func upsert(bars: [Bar], ticker: String, timeframe: Timeframe, provider: ProviderName,
                       overwrite: Bool = false) throws -> UpsertCounts {
        try upsert(bars: bars, symbolId: try symbolID(ticker: ticker), timeframe: timeframe, provider: provider, overwrite: overwrite)
    }

    // MARK: Precheck

    /// How many of the slots starting at `slotStarts` have a bar (a chunk's precheck).
    public func countPresent(symbolId: String, timeframe: Timeframe, slotStarts: [Int64]) throws -> Int {
        guard !slotStarts.isEmpty else { return 0 }
        try checkSupported(timeframe)
        // `timeframe = $2` lets the server type $2 as the column's own type (enum or text),
        // so the (symbol_id, timeframe, ts) index serves the lookup.
        return try connection.query(PostgresQuery("count present bars", """
            SELECT count(*) AS present FROM ohlc_bars
            WHERE symbol_id = $1::uuid AND timeframe = $2 AND ts = ANY($3::timestamptz[])
            """, [symbolId, timeframe, slotStarts.map(Timestamp.init)])).onlyRow().decode("present", as: Int.self)
    }

    // MARK: Ledger and status (barfill's tables, from `barfill migrate`)

    /// Records half-open ranges `[from, to)` the provider answered with no bar. Returns the
    /// number of new ledger rows (a range already recorded is not repeated).
    @discardableResult
    public func recordEmpty(ranges: [(from: Int64, to: Int64)], symbolId: String, timeframe: Timeframe,
                            provider: ProviderName) throws -> Int {
        let valid = ranges.filter { $0.from < $0.to }
        guard !valid.isEmpty else { return 0 }
        return try connection.withinTransaction { connection in
            try connection.query(PostgresQuery("record empty ranges", """
                INSERT INTO barfill.empty_ranges (symbol_id, timeframe, from_ts, to_ts, provider)
                SELECT $1::uuid, $2::text, r.from_ts, r.to_ts, $3::text
                FROM unnest($4::timestamptz[], $5::timestamptz[]) AS r (from_ts, to_ts)
                ON CONFLICT DO NOTHING
                """, [symbolId, timeframe, provider, valid.map { Timestamp($0.from) }, valid.map { Timestamp($0.to) }])).affectedRows
        }
    }

    /// The ledger's ranges for one series, ordered by start.
    public func emptyRanges(symbolId: String, timeframe: Timeframe) throws -> [(from: Int64, to: Int64)] {
        let rows = try connection.query(PostgresQuery("empty ranges of a series", """
            SELECT extract(epoch FROM from_ts)::bigint AS from_ts, extract(epoch FROM to_ts)::bigint AS to_ts
            FROM barfill.empty_ranges WHERE symbol_id = $1::uuid AND timeframe = $2::text ORDER BY 1, 2
            """, [symbolId, timeframe]))
        let from = try rows.column("from_ts", as: Int64.self), to = try rows.column("to_ts", as: Int64.self)
        return try rows.rows.map { try $0.decode(from, to) }
    }

    /// Refreshes a series' oldest/newest bar and run result; with `verified`, also the point up
    /// to which a full scan found the series complete under `grid`.
    public func updateStatus(symbolId: String, timeframe: Timeframe, result: String,
                             verified: (from: Int64, through: Int64, grid: String)? = nil) throws {
        try connection.withinTransaction { connection in
            // The timeframe is bound twice: $2 takes ohlc_bars.timeframe's type (enum or text, so the
            // index serves the lookups), $3 is text; one parameter cannot be deduced as both.
            try connection.query(PostgresQuery("update backfill status", """
                INSERT INTO barfill.backfill_status AS s
                    (symbol_id, timeframe, oldest_ts, newest_ts, verified_from, verified_through, grid, last_run_at, last_result)
                SELECT $1::uuid, $3::text,
                       (SELECT min(ts) FROM ohlc_bars WHERE symbol_id = $1::uuid AND timeframe = $2),
                       (SELECT max(ts) FROM ohlc_bars WHERE symbol_id = $1::uuid AND timeframe = $2),
                       $5::timestamptz, $6::timestamptz, $7::text, now(), $4::text
                ON CONFLICT (symbol_id, timeframe) DO UPDATE SET
                    oldest_ts = EXCLUDED.oldest_ts,
                    newest_ts = EXCLUDED.newest_ts,
                    verified_from = CASE WHEN $6::timestamptz IS NULL THEN s.verified_from ELSE EXCLUDED.verified_from END,
                    verified_through = CASE WHEN $6::timestamptz IS NULL THEN s.verified_through ELSE EXCLUDED.verified_through END,
                    grid = CASE WHEN $6::timestamptz IS NULL THEN s.grid ELSE EXCLUDED.grid END,
                    last_run_at = EXCLUDED.last_run_at,
                    last_result = EXCLUDED.last_result
                """, [symbolId, timeframe, timeframe, result,
                      verified.map { Timestamp($0.from) }, verified.map { Timestamp($0.through) }, verified?.grid]))
        }
    }

    /// `backfill_status` rows for the given symbol ids, keyed by (ticker, timeframe).
    public func statuses(symbolIds: [String]) throws -> [SeriesKey: SeriesStatus] {
        guard !symbolIds.isEmpty else { return [:] }
        return try statuses(where: "st.symbol_id = ANY($1::uuid[])", [symbolIds])
    }

    /// Every `backfill_status` row of the given timeframes (a scan's whole universe in one read).
    public func statuses(timeframes: [Timeframe]) throws -> [SeriesKey: SeriesStatus] {
        guard !timeframes.isEmpty else { return [:] }
        return try statuses(where: "st.timeframe = ANY($1::text[])", [timeframes])
    }

    private func statuses(where condition: StaticString, _ parameters: [any PostgresParameter]) throws -> [SeriesKey: SeriesStatus] {
        let rows = try connection.query(PostgresQuery("backfill status", """
            SELECT sy.ticker, st.timeframe,
                   extract(epoch FROM st.oldest_ts)::bigint AS oldest, extract(epoch FROM st.newest_ts)::bigint AS newest,
                   extract(epoch FROM st.verified_from)::bigint AS verified_from,
                   extract(epoch FROM st.verified_through)::bigint AS verified_through,
                   st.grid, extract(epoch FROM st.last_run_at)::bigint AS last_run_at, st.last_result
            FROM barfill.backfill_status st JOIN symbols sy ON sy.id = st.symbol_id WHERE \(condition)
            """, parameters))
        let ticker = try rows.column("ticker", as: String.self), timeframe = try rows.column("timeframe", as: String.self)
        let oldest = try rows.column("oldest", as: Int64?.self), newest = try rows.column("newest", as: Int64?.self)
        let verifiedFrom = try rows.column("verified_from", as: Int64?.self)
        let verifiedThrough = try rows.column("verified_through", as: Int64?.self)
        let grid = try rows.column("grid", as: String?.self), lastRunAt = try rows.column("last_run_at", as: Int64?.self)
        let lastResult = try rows.column("last_result", as: String?.self)
        var found: [SeriesKey: SeriesStatus] = [:]
        for row in rows.rows {
            guard let timeframe = Timeframe(rawValue: try row.decode(timeframe)) else { continue }
            found[SeriesKey(symbol: try row.decode(ticker), timeframe: timeframe)] = SeriesStatus(
                oldest: try row.decode(oldest), newest: try row.decode(newest),
                verifiedFrom: try row.decode(verifiedFrom), verifiedThrough: try row.decode(verifiedThrough),
                grid: try row.decode(grid), lastRunAt: try row.decode(lastRunAt), lastResult: try row.decode(lastResult))
        }
        return found
    }
}

