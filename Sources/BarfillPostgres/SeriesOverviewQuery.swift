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
        SELECT s.ticker, b.timeframe::text AS timeframe, count(*) AS bars,
               extract(epoch FROM min(b.ts))::bigint AS oldest, extract(epoch FROM max(b.ts))::bigint AS newest,
               extract(epoch FROM max(st.last_run_at))::bigint AS last_run_at, max(st.last_result) AS last_result,
               extract(epoch FROM max(st.verified_through))::bigint AS verified_through,
               (SELECT count(*) FROM barfill.empty_ranges e
                 WHERE e.symbol_id = b.symbol_id AND e.timeframe = b.timeframe::text) AS confirmed_empty_ranges
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
        SELECT s.ticker, b.timeframe::text AS timeframe, count(*) AS bars,
               extract(epoch FROM min(b.ts))::bigint AS oldest, extract(epoch FROM max(b.ts))::bigint AS newest,
               NULL::bigint AS last_run_at, NULL::text AS last_result, NULL::bigint AS verified_through,
               0::bigint AS confirmed_empty_ranges
        FROM ohlc_bars b
        JOIN symbols s ON s.id = b.symbol_id
        WHERE ($1::text[] IS NULL OR s.ticker = ANY($1::text[]))
          AND ($2::text[] IS NULL OR b.timeframe::text = ANY($2::text[]))
        GROUP BY s.ticker, b.symbol_id, b.timeframe
        ORDER BY s.ticker, b.timeframe
        """

    public static func run(_ connection: PostgresConnection, symbols: [String]?, timeframes: [Timeframe]?) throws -> [SeriesOverview] {
        let migrated = try connection.query(PostgresQuery("status tables exist",
            "SELECT to_regclass('barfill.backfill_status') IS NOT NULL")).scalar(as: Bool.self)
        let rows = try connection.query(PostgresQuery("series overview", migrated ? withStatus : barsOnly,
                                                      [symbols, timeframes?.map(\.rawValue)]))
        return try rows.rows.map { row in
            SeriesOverview(symbol: try row.decode("ticker"), timeframe: try row.decode("timeframe"),
                           bars: try row.decode("bars"), oldest: try row.decode("oldest"), newest: try row.decode("newest"),
                           lastRunAt: try row.decode("last_run_at"), lastResult: try row.decode("last_result"),
                           verifiedThrough: try row.decode("verified_through"),
                           confirmedEmptyRanges: try row.decode("confirmed_empty_ranges"))
        }
    }
}
