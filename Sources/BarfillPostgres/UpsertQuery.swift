/// The statements that move `barfill_incoming` (filled by COPY) into `ohlc_bars`.
///
/// Each answers one row: (inserted, updated). `xmax = 0` on a RETURNING row means the row was
/// inserted by this statement; a row that came back through DO UPDATE has the updating
/// transaction in xmax. Rows neither inserted nor updated do not come back at all.
enum UpsertQuery {
    static let keepExisting = """
        WITH written AS (
            INSERT INTO ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
            SELECT symbol_id, timeframe, ts, open, high, low, close, volume, provider
            FROM barfill_incoming ORDER BY ts
            ON CONFLICT (symbol_id, timeframe, ts) DO NOTHING
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written
        """

    static let overwrite = """
        WITH written AS (
            INSERT INTO ohlc_bars AS b (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
            SELECT symbol_id, timeframe, ts, open, high, low, close, volume, provider
            FROM barfill_incoming ORDER BY ts
            ON CONFLICT (symbol_id, timeframe, ts) DO UPDATE SET
                open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                close = EXCLUDED.close, volume = EXCLUDED.volume, provider = EXCLUDED.provider
            WHERE (b.open, b.high, b.low, b.close, b.volume)
                  IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written
        """
}
