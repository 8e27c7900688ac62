import BarfillCore
import BarfillPostgres

/// The precheck before a fetch, in one statement: which of a chunk's slot starts already hold a bar,
/// and which lie in a range the provider confirmed empty. Only those rows come back.
enum PresentSlotsQuery {
    /// $1 symbol id, $2 timeframe (typed by `ohlc_bars.timeframe`, enum or text, so the
    /// (symbol_id, timeframe, ts) index serves each probe), $3 slot starts, $4 timeframe as text (the ledger's).
    static let sql = """
        SELECT extract(epoch FROM s.ts)::bigint,
               EXISTS (SELECT 1 FROM ohlc_bars b WHERE b.symbol_id = $1::uuid AND b.timeframe = $2 AND b.ts = s.ts)
        FROM unnest($3::timestamptz[]) AS s (ts)
        WHERE EXISTS (SELECT 1 FROM ohlc_bars b WHERE b.symbol_id = $1::uuid AND b.timeframe = $2 AND b.ts = s.ts)
           OR EXISTS (SELECT 1 FROM barfill.empty_ranges e
                      WHERE e.symbol_id = $1::uuid AND e.timeframe = $4::text AND e.from_ts <= s.ts AND s.ts < e.to_ts)
        """

    struct Answer: Sendable {
        var present: Set<Int64> = []
        var ledgered: Set<Int64> = []
    }

    static func run(_ connection: PostgresConnection, symbolId: String, timeframe: Timeframe,
                    slotStarts: [Int64]) throws -> Answer {
        var answer = Answer()
        guard !slotStarts.isEmpty else { return answer }
        let rows = try connection.query(sql, [symbolId, timeframe, slotStarts.map(Timestamp.init), timeframe.rawValue])
        for row in 0..<rows.rowCount {
            guard let ts = try rows.int64(row, 0) else { continue }
            if rows.bool(row, 1) == true { answer.present.insert(ts) } else { answer.ledgered.insert(ts) }
        }
        return answer
    }
}
