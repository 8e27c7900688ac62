/// The gap scan's SQL. `barfill_series` and `barfill_slots_<timeframe>` are temp tables of the
/// scan's transaction (filled by COPY); their key columns are created from `ohlc_bars`' own
/// columns, so joins compare enum to enum (or text to text) and the (symbol_id, timeframe, ts)
/// index serves every series. Table names come from the `Timeframe` enum, never from input.
import BarfillCore

enum GapScanQuery {
    static let createSeries = """
        CREATE TEMP TABLE barfill_series ON COMMIT DROP AS
        SELECT 0::integer AS series, symbol_id, timeframe, ts AS from_ts FROM ohlc_bars WITH NO DATA
        """
    static let copySeries = "COPY barfill_series (series, symbol_id, timeframe, from_ts) FROM STDIN"

    /// The expected slots of one timeframe's scan windows: start and global ordinal. One table
    /// per timeframe keeps each series' slot read a plain range of a small table.
    static func slotsTable(_ timeframe: Timeframe) -> String { "barfill_slots_\(timeframe.rawValue)" }
    static func createSlots(_ timeframe: Timeframe) -> String {
        "CREATE TEMP TABLE \(slotsTable(timeframe)) ON COMMIT DROP AS SELECT ts, 0::integer AS ordinal FROM ohlc_bars WITH NO DATA"
    }
    static func copySlots(_ timeframe: Timeframe) -> String { "COPY \(slotsTable(timeframe)) (ts, ordinal) FROM STDIN" }

    /// The scan of series `$1 ..< $2`, all of `timeframe`, over slots and bars in `[from, $3)`.
    ///
    /// Per series, one range of the (symbol_id, timeframe, ts) index (index-only once vacuumed)
    /// is hashed and FULL JOINed with the series' expected slots: a slot without a bar is
    /// missing, a bar without a slot is off the grid, everything else is dropped on the server.
    /// Missing slots are then folded into runs of consecutive ordinals (gaps-and-islands over
    /// the few unmatched rows), so the answer is one row per gap plus one row per series with
    /// off-grid bars: (series, first ordinal, last ordinal, slots) or (series, NULL, NULL, bars).
    ///
    /// `s.ordinal % 1 = 0` is always true, and the planner, which cannot see that, estimates it
    /// at 0.5%: the slots then look like the smaller side, so they are hashed, and because their
    /// scan does not depend on the series (full scans), that one hash table serves every series
    /// of the batch instead of hashing each series' bars anew (about 40% faster).
    ///
    /// A series with no bar in its window (a new symbol, deep history) is missing every slot: one
    /// run, read as min, max and count of its slots, rather than every slot hashed, sorted and folded
    /// (1,000 empty h1 series over 21 years took over three minutes that way).
    ///
    /// `from` is `$4` when every series of the batch starts there (a full scan, or series
    /// verified through the same point), else each series' own start: constants let the planner estimate bars per series from the
    /// column's histogram (and so read the index), where a bound taken from another table gets
    /// its 0.5% default.
    static func scanBatch(_ timeframe: Timeframe, sharedFrom: Bool) -> String {
        let from = sharedFrom ? "$4::timestamptz" : "q.from_ts"
        let hasBars = """
            EXISTS (SELECT 1 FROM ohlc_bars e
                    WHERE e.symbol_id = q.symbol_id AND e.timeframe = q.timeframe
                      AND e.ts >= \(from) AND e.ts < $3::timestamptz)
            """
        return """
            WITH unmatched AS (
                SELECT q.series, m.ordinal
                FROM barfill_series q
                CROSS JOIN LATERAL (
                    SELECT s.ordinal
                    FROM (SELECT b.ts FROM ohlc_bars b
                          WHERE b.symbol_id = q.symbol_id AND b.timeframe = q.timeframe
                            AND b.ts >= \(from) AND b.ts < $3::timestamptz) b
                    FULL JOIN (SELECT s.ts, s.ordinal FROM \(slotsTable(timeframe)) s
                               WHERE s.ts >= \(from) AND s.ts < $3::timestamptz
                                 AND s.ordinal % 1 = 0) s ON s.ts = b.ts
                    WHERE b.ts IS NULL OR s.ts IS NULL
                ) m
                WHERE q.series >= $1::integer AND q.series < $2::integer AND \(hasBars)
            )
            SELECT series, min(ordinal) AS first, max(ordinal) AS last, count(*) AS slots
            FROM (SELECT series, ordinal, ordinal - row_number() OVER (PARTITION BY series ORDER BY ordinal) AS run
                  FROM unmatched WHERE ordinal IS NOT NULL) missing
            GROUP BY series, run
            UNION ALL
            SELECT series, NULL, NULL, count(*) FROM unmatched WHERE ordinal IS NULL GROUP BY series
            UNION ALL
            SELECT q.series, r.first, r.last, r.slots
            FROM barfill_series q
            CROSS JOIN LATERAL (
                SELECT min(s.ordinal) AS first, max(s.ordinal) AS last, count(*) AS slots
                FROM \(slotsTable(timeframe)) s
                WHERE s.ts >= \(from) AND s.ts < $3::timestamptz
            ) r
            WHERE q.series >= $1::integer AND q.series < $2::integer AND NOT \(hasBars) AND r.slots > 0
            """
    }

    /// Every (symbol, timeframe) that has bars, by a skip scan of the unique index: one index
    /// descent per series instead of a pass over all bars.
    static let seriesWithBars = """
        WITH RECURSIVE series AS (
            (SELECT symbol_id, timeframe FROM ohlc_bars ORDER BY symbol_id, timeframe LIMIT 1)
            UNION ALL
            SELECT n.symbol_id, n.timeframe
            FROM series s
            CROSS JOIN LATERAL (
                SELECT b.symbol_id, b.timeframe FROM ohlc_bars b
                WHERE (b.symbol_id, b.timeframe) > (s.symbol_id, s.timeframe)
                ORDER BY b.symbol_id, b.timeframe
                LIMIT 1
            ) n
        )
        SELECT sy.id::text AS id, sy.ticker, s.timeframe::text AS timeframe, sy.primary_source::text AS primary_source
        FROM series s JOIN symbols sy ON sy.id = s.symbol_id
        """

    /// The symbols with bars of one timeframe (`$1`, typed by the server as the column's own
    /// type; `$2` the same as text): one probe of the unique index per symbol.
    static let symbolsWithBars = """
        SELECT sy.id::text AS id, sy.ticker, $2::text AS timeframe, sy.primary_source::text AS primary_source
        FROM symbols sy
        WHERE EXISTS (SELECT 1 FROM ohlc_bars b WHERE b.symbol_id = sy.id AND b.timeframe = $1)
        """

    static let watchlistSymbols = """
        SELECT DISTINCT sy.id::text AS id, sy.ticker, sy.primary_source::text AS primary_source
        FROM watchlist_items w JOIN symbols sy ON sy.id = w.symbol_id
        """

    /// The ledger's ranges of the scanned series.
    static let ledger = """
        SELECT q.series, extract(epoch FROM e.from_ts)::bigint AS from_ts, extract(epoch FROM e.to_ts)::bigint AS to_ts
        FROM barfill.empty_ranges e
        JOIN barfill_series q ON e.symbol_id = q.symbol_id AND e.timeframe = q.timeframe::text
        """

    /// The verified points of every series of the given timeframes (`$1`, text[]), by symbol id:
    /// only the columns an incremental scan reads, without a join to `symbols`.
    static let verifiedPoints = """
        SELECT symbol_id::text AS symbol_id, timeframe, grid,
               extract(epoch FROM verified_from)::bigint AS verified_from,
               extract(epoch FROM verified_through)::bigint AS verified_through
        FROM barfill.backfill_status
        WHERE timeframe = ANY($1::text[]) AND verified_from IS NOT NULL AND verified_through IS NOT NULL
        """

    /// Records, per scanned series, how far it is verified complete. Oldest and newest bar are
    /// left to `BarStore.updateStatus` (apply): looking them up here would cost the scan two index
    /// descents per series for columns it does not need.
    ///
    /// Rows that exist (every series after its first scan) are changed by one joined UPDATE, which
    /// costs about half of what `INSERT … ON CONFLICT DO UPDATE` spends per row (a speculative
    /// insertion and a row lock each); only the series without a row go through the INSERT, whose
    /// ON CONFLICT still settles a row another scan inserted meanwhile.
    static let recordVerified = """
        WITH v AS (
            SELECT q.symbol_id, q.timeframe::text AS timeframe, v.verified_from, v.through, v.result
            FROM unnest($1::integer[], $2::timestamptz[], $4::timestamptz[], $5::text[]) AS v (series, verified_from, through, result)
            JOIN barfill_series q ON q.series = v.series
        ), updated AS (
            UPDATE barfill.backfill_status AS st
            SET verified_from = v.verified_from, verified_through = v.through, grid = $3::text,
                last_run_at = now(), last_result = v.result
            FROM v WHERE st.symbol_id = v.symbol_id AND st.timeframe = v.timeframe
            RETURNING st.symbol_id, st.timeframe
        ), inserted AS (
            INSERT INTO barfill.backfill_status AS st
                (symbol_id, timeframe, verified_from, verified_through, grid, last_run_at, last_result)
            SELECT v.symbol_id, v.timeframe, v.verified_from, v.through, $3::text, now(), v.result
            FROM v WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.symbol_id = v.symbol_id AND u.timeframe = v.timeframe)
            ON CONFLICT (symbol_id, timeframe) DO UPDATE SET
            verified_from = EXCLUDED.verified_from, verified_through = EXCLUDED.verified_through,
            grid = EXCLUDED.grid, last_run_at = EXCLUDED.last_run_at, last_result = EXCLUDED.last_result
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted) AS recorded
        """
}
