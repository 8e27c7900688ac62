import BarfillCore

/// Reads what the coverage report draws, and nothing else: which series have bars in a window, each
/// series' bar keys in it, and the ranges its provider confirmed empty. Read-only, so the reader
/// role is enough; one transaction, so it works through a transaction-mode pooler.
public struct CoverageQuery {
    /// One series' raw coverage: the keys of its stored bars and its confirmed-empty ranges.
    public struct SeriesData: Sendable, Hashable {
        public var ticker: String
        public var timeframe: Timeframe
        public var bars: [Int64]
        public var confirmedEmpty: [EmptyRange]
    }

    /// A half-open range the provider answered with no bar.
    public struct EmptyRange: Sendable, Hashable {
        public var from: Int64
        public var to: Int64

        public init(from: Int64, to: Int64) {
            self.from = from
            self.to = to
        }
    }

    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Reads the series of the window `[from, until)`. With both `tickers` and `timeframes` given,
    /// every pair is a series, with or without bars; otherwise the series that have bars in the
    /// window, narrowed to the tickers or timeframes given.
    public func read(tickers: [Ticker], timeframes: [Timeframe], from: Int64, until: Int64) throws -> [SeriesData] {
        try connection.transaction { connection in
            // One snapshot for every series, and a promise to the server that nothing is written.
            try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let pairs = try seriesList(connection, tickers: tickers, timeframes: timeframes, from: from, until: until)
            let hasLedger = try connection.query(PostgresQuery("ledger exists",
                "SELECT to_regclass('barfill.empty_ranges') IS NOT NULL")).scalar(as: Bool.self)
            return try pairs.map { ticker, timeframe in
                SeriesData(ticker: ticker, timeframe: timeframe,
                           bars: try barKeys(connection, ticker, timeframe, from, until),
                           confirmedEmpty: hasLedger ? try emptyRanges(connection, ticker, timeframe, from, until) : [])
            }
        }
    }

    /// What a whole universe's report reads: every series of the window as weekly counts, aggregated
    /// in PostgreSQL (a row per series and week comes back, never a bar), and in full only the series
    /// `details` picks from those rows. One read-only snapshot for both.
    public func readOverview(tickers: [Ticker], timeframes: [Timeframe], from: Int64, until: Int64,
                             weeks: CoverageWeeks, slots: (Timeframe) -> CoverageWeekSlots,
                             details: ([CoverageOverviewRow]) -> [Int]) throws
        -> (overview: [CoverageOverviewRow], details: [SeriesData]) {
        try connection.transaction { connection in
            try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let pairs = try seriesList(connection, tickers: tickers, timeframes: timeframes, from: from, until: until)
            let hasLedger = try connection.query(PostgresQuery("ledger exists",
                "SELECT to_regclass('barfill.empty_ranges') IS NOT NULL")).scalar(as: Bool.self)
            var rows: [CoverageOverviewRow] = []
            for timeframe in Set(pairs.map(\.1)).sorted() {
                let names = pairs.filter { $0.1 == timeframe }.map(\.0)
                rows += try weeklyRows(connection, names: names, timeframe: timeframe, from: from, until: until,
                                       weekCount: weeks.mondays.count, slots: slots(timeframe), ledger: hasLedger)
            }
            rows.sort { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
            let full = try details(rows).map { index in
                let row = rows[index]
                return SeriesData(ticker: row.ticker, timeframe: row.timeframe,
                                  bars: try barKeys(connection, row.ticker, row.timeframe, from, until),
                                  confirmedEmpty: hasLedger
                                      ? try emptyRanges(connection, row.ticker, row.timeframe, from, until) : [])
            }
            return (rows, full)
        }
    }

    /// One timeframe's series as weekly counts. Bars are joined to the slot keys in the server and
    /// counted per series and week; a bar whose key is no slot is off-grid (week NULL), one on a slot
    /// that ends after the window (week -1) is neither. Confirmed-empty slots are those inside a ledger
    /// range without a bar, each counted once however many ranges cover it.
    private func weeklyRows(_ connection: PostgresConnection, names: [String], timeframe: Timeframe,
                            from: Int64, until: Int64, weekCount: Int, slots: CoverageWeekSlots,
                            ledger: Bool) throws -> [CoverageOverviewRow] {
        var weeks: [String: [CoverageWeekCount]] = [:], offGrid: [String: Int] = [:]
        let blank = slots.expected.map { CoverageWeekCount(expected: $0) }
        for name in names { weeks[name] = blank }
        let bars = try connection.query(PostgresQuery("coverage weeks", """
            WITH slot AS (SELECT to_timestamp(u.k) AS ts, u.w FROM unnest($1::bigint[], $2::integer[]) AS u (k, w))
            SELECT s.ticker, slot.w AS week, slot.ts IS NULL AS off_grid, count(*)::bigint AS bars
            FROM ohlc_bars o JOIN symbols s ON s.id = o.symbol_id
            LEFT JOIN slot ON slot.ts = o.ts
            WHERE o.timeframe::text = $3 AND o.ts >= $4::timestamptz AND o.ts < $5::timestamptz
              AND s.ticker = ANY ($6::text[])
            GROUP BY 1, 2, 3
            """, [slots.starts, slots.weeks, timeframe.rawValue, Timestamp(from), Timestamp(until), names]))
        let ticker = try bars.column("ticker", as: String.self), week = try bars.column("week", as: Int?.self)
        let isOff = try bars.column("off_grid", as: Bool.self), count = try bars.column("bars", as: Int64.self)
        for row in bars.rows {
            let name = try row.decode(ticker), n = Int(try row.decode(count))
            if try row.decode(isOff) {
                offGrid[name, default: 0] += n
            } else if let w = try row.decode(week), w >= 0, w < weekCount {
                weeks[name]?[w].present += n
            }
        }
        if ledger {
            let empty = try connection.query(PostgresQuery("coverage weeks ledger", """
                WITH slot AS (SELECT to_timestamp(u.k) AS ts, to_timestamp(u.e) AS ts_end, u.w
                              FROM unnest($1::bigint[], $2::bigint[], $3::integer[]) AS u (k, e, w) WHERE u.w >= 0)
                SELECT s.ticker, slot.w AS week, count(DISTINCT slot.ts)::bigint AS slots
                FROM barfill.empty_ranges e JOIN symbols s ON s.id = e.symbol_id
                JOIN slot ON e.from_ts <= slot.ts AND slot.ts_end <= e.to_ts
                WHERE e.timeframe = $4 AND s.ticker = ANY ($5::text[])
                  AND e.to_ts > $6::timestamptz AND e.from_ts < $7::timestamptz
                  AND NOT EXISTS (SELECT 1 FROM ohlc_bars o
                                  WHERE o.symbol_id = e.symbol_id AND o.timeframe::text = $4 AND o.ts = slot.ts)
                GROUP BY 1, 2
                """, [slots.starts, slots.ends, slots.weeks, timeframe.rawValue, names, Timestamp(from), Timestamp(until)]))
            let ticker = try empty.column("ticker", as: String.self), week = try empty.column("week", as: Int.self)
            let count = try empty.column("slots", as: Int64.self)
            for row in empty.rows {
                let name = try row.decode(ticker), w = try row.decode(week)
                if w < weekCount { weeks[name]?[w].confirmedEmpty += Int(try row.decode(count)) }
            }
        }
        return names.map { name in
            CoverageOverviewRow(ticker: name, timeframe: timeframe, weeks: weeks[name] ?? blank,
                                offGrid: offGrid[name] ?? 0)
        }
    }

    private func seriesList(_ connection: PostgresConnection, tickers: [Ticker], timeframes: [Timeframe],
                            from: Int64, until: Int64) throws -> [(String, Timeframe)] {
        if !tickers.isEmpty && !timeframes.isEmpty {
            return tickers.sorted().flatMap { ticker in timeframes.sorted().map { (ticker.value, $0) } }
        }
        let result = try connection.query(PostgresQuery("coverage series", """
            SELECT s.ticker, o.timeframe::text AS timeframe
            FROM ohlc_bars o JOIN symbols s ON s.id = o.symbol_id
            WHERE o.ts >= $1::timestamptz AND o.ts < $2::timestamptz
              AND ($3::text[] IS NULL OR s.ticker = ANY ($3::text[]))
              AND ($4::text[] IS NULL OR o.timeframe::text = ANY ($4::text[]))
            GROUP BY 1, 2
            ORDER BY 1, 2
            """, [Timestamp(from), Timestamp(until),
                  tickers.isEmpty ? nil : tickers.map(\.value),
                  timeframes.isEmpty ? nil : timeframes.map(\.rawValue)]))
        let ticker = try result.column("ticker", as: String.self), label = try result.column("timeframe", as: String.self)
        var pairs: [(String, Timeframe)] = []
        for row in result.rows {
            // A timeframe the enum has but barfill does not know is not drawn.
            guard let timeframe = Timeframe(rawValue: try row.decode(label)) else { continue }
            pairs.append((try row.decode(ticker), timeframe))
        }
        return pairs
    }

    private func barKeys(_ connection: PostgresConnection, _ ticker: String, _ timeframe: Timeframe,
                         _ from: Int64, _ until: Int64) throws -> [Int64] {
        let result = try connection.query(PostgresQuery("coverage bars", """
            SELECT extract(epoch FROM o.ts)::bigint AS ts
            FROM ohlc_bars o JOIN symbols s ON s.id = o.symbol_id
            WHERE s.ticker = $1 AND o.timeframe::text = $2
              AND o.ts >= $3::timestamptz AND o.ts < $4::timestamptz
            ORDER BY o.ts
            """, [ticker, timeframe.rawValue, Timestamp(from), Timestamp(until)]))
        let ts = try result.column("ts", as: Int64.self)
        return try result.rows.map { try $0.decode(ts) }
    }

    private func emptyRanges(_ connection: PostgresConnection, _ ticker: String, _ timeframe: Timeframe,
                             _ from: Int64, _ until: Int64) throws -> [EmptyRange] {
        let result = try connection.query(PostgresQuery("coverage ledger", """
            SELECT extract(epoch FROM e.from_ts)::bigint AS from_ts, extract(epoch FROM e.to_ts)::bigint AS to_ts
            FROM barfill.empty_ranges e JOIN symbols s ON s.id = e.symbol_id
            WHERE s.ticker = $1 AND e.timeframe = $2
              AND e.to_ts > $3::timestamptz AND e.from_ts < $4::timestamptz
            ORDER BY 1, 2
            """, [ticker, timeframe.rawValue, Timestamp(from), Timestamp(until)]))
        let from = try result.column("from_ts", as: Int64.self), to = try result.column("to_ts", as: Int64.self)
        return try result.rows.map { row in
            let (from, to) = try row.decode(from, to)
            return EmptyRange(from: from, to: to)
        }
    }
}
