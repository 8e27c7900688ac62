import BarfillCore

/// One series as `barfill status` shows it: what `ohlc_bars` holds and what `backfill_status` says.
public struct SeriesOverview: Sendable, Hashable {
    public var symbol: String
    public var timeframe: String
    public var bars: Int
    public var oldest: Int64?
    public var newest: Int64?
    /// From `barfill.backfill_status` (nil before `barfill migrate` or before any scan or apply).
    public var lastRunAt: Int64?
    public var lastResult: String?
    public var verifiedThrough: Int64?
    /// Slots the ledger records as confirmed empty.
    public var confirmedEmptyRanges: Int

    public init(symbol: String, timeframe: String, bars: Int, oldest: Int64?, newest: Int64?, lastRunAt: Int64?,
                lastResult: String?, verifiedThrough: Int64?, confirmedEmptyRanges: Int) {
        self.symbol = symbol
        self.timeframe = timeframe
        self.bars = bars
        self.oldest = oldest
        self.newest = newest
        self.lastRunAt = lastRunAt
        self.lastResult = lastResult
        self.verifiedThrough = verifiedThrough
        self.confirmedEmptyRanges = confirmedEmptyRanges
    }
}

/// The verification query users run after a backfill: per series, the bar count, oldest and newest
/// bar, and the backfill status. Filters are optional; nil lists every series that has bars.
public enum SeriesOverviewQuery {
    static let withStatus = """
        SELECT s.ticker, b.timeframe::text, count(*),
               extract(epoch FROM min(b.ts))::bigint, extract(epoch FROM max(b.ts))::bigint,
               extract(epoch FROM max(st.last_run_at))::bigint, max(st.last_result),
               extract(epoch FROM max(st.verified_through))::bigint,
               (SELECT count(*) FROM barfill.empty_ranges e
                 WHERE e.symbol_id = b.symbol_id AND e.timeframe = b.timeframe::text)
        FROM ohlc_bars b
        JOIN symbols s ON s.id = b.symbol_id
        LEFT JOIN barfill.backfill_status st ON st.symbol_id = b.symbol_id AND st.timeframe = b.timeframe::text
        WHERE ($1::text[] IS NULL OR s.ticker = ANY($1::text[]))
          AND ($2::text[] IS NULL OR b.timeframe::text = ANY($2::text[]))
        GROUP BY s.ticker, b.symbol_id, b.timeframe
        ORDER BY s.ticker, b.timeframe
        """

    /// The same without barfill's tables, for a database `barfill migrate` has not touched.
    static let barsOnly = """
        SELECT s.ticker, b.timeframe::text, count(*),
               extract(epoch FROM min(b.ts))::bigint, extract(epoch FROM max(b.ts))::bigint,
               NULL::bigint, NULL::text, NULL::bigint, 0::bigint
        FROM ohlc_bars b
        JOIN symbols s ON s.id = b.symbol_id
        WHERE ($1::text[] IS NULL OR s.ticker = ANY($1::text[]))
          AND ($2::text[] IS NULL OR b.timeframe::text = ANY($2::text[]))
        GROUP BY s.ticker, b.symbol_id, b.timeframe
        ORDER BY s.ticker, b.timeframe
        """

    public static func run(_ connection: PostgresConnection, symbols: [String]?, timeframes: [Timeframe]?) throws -> [SeriesOverview] {
        let migrated = try connection.query("SELECT to_regclass('barfill.backfill_status') IS NOT NULL").bool(0, 0) ?? false
        let rows = try connection.query(migrated ? withStatus : barsOnly,
                                        [symbols, timeframes?.map(\.rawValue)])
        return try (0..<rows.rowCount).map { row in
            SeriesOverview(symbol: rows.string(row, 0) ?? "", timeframe: rows.string(row, 1) ?? "",
                           bars: try rows.int(row, 2) ?? 0, oldest: try rows.int64(row, 3), newest: try rows.int64(row, 4),
                           lastRunAt: try rows.int64(row, 5), lastResult: rows.string(row, 6),
                           verifiedThrough: try rows.int64(row, 7), confirmedEmptyRanges: try rows.int(row, 8) ?? 0)
        }
    }
}
