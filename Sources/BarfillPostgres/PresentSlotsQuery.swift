import BarfillCore

/// The precheck before a fetch: which of a chunk's slot starts already hold a bar, and which lie
/// in a range the provider confirmed empty.
///
/// Two range reads instead of a probe per slot: the bars of the series between the chunk's first
/// and last slot (one ordered pass over the (symbol_id, timeframe, ts) index, usually returning
/// nothing since the slots were planned as missing), and the ledger ranges overlapping that span.
/// The slots are matched against both here.
public enum PresentSlotsQuery {
    /// $1 symbol id, $2 timeframe (typed by `ohlc_bars.timeframe`, enum or text, so the index
    /// serves the range), $3 and $4 the first and last slot start.
    static let bars = """
        SELECT extract(epoch FROM ts)::bigint AS ts FROM ohlc_bars
        WHERE symbol_id = $1::uuid AND timeframe = $2 AND ts >= $3::timestamptz AND ts <= $4::timestamptz
        """

    /// $1 symbol id, $2 timeframe as text (the ledger's), $3 and $4 the first and last slot start.
    static let ledger = """
        SELECT extract(epoch FROM from_ts)::bigint AS from_ts, extract(epoch FROM to_ts)::bigint AS to_ts FROM barfill.empty_ranges
        WHERE symbol_id = $1::uuid AND timeframe = $2::text AND from_ts <= $4::timestamptz AND to_ts > $3::timestamptz
        """

    /// Slot starts that hold a bar, and those the ledger covers (never both).
    public struct Answer: Sendable {
        public var present: Set<Int64> = []
        public var ledgered: Set<Int64> = []
    }

    public static func run(_ connection: PostgresConnection, symbolId: String, timeframe: Timeframe,
                    slotStarts: [Int64]) throws -> Answer {
        var answer = Answer()
        guard let first = slotStarts.min(), let last = slotStarts.max() else { return answer }
        let wanted = Set(slotStarts)
        let stored = try connection.query(PostgresQuery("precheck bars", bars, [symbolId, timeframe, Timestamp(first), Timestamp(last)]))
        let ts = try stored.column("ts", as: Int64.self)
        for row in stored.rows {
            let ts = try row.decode(ts)
            if wanted.contains(ts) { answer.present.insert(ts) }
        }
        let ranges = try connection.query(PostgresQuery("precheck ledger", ledger, [symbolId, timeframe.rawValue, Timestamp(first), Timestamp(last)]))
        let rangeFrom = try ranges.column("from_ts", as: Int64.self), rangeTo = try ranges.column("to_ts", as: Int64.self)
        for row in ranges.rows {
            let (from, to) = try row.decode(rangeFrom, rangeTo)
            for ts in wanted where from <= ts && ts < to && !answer.present.contains(ts) { answer.ledgered.insert(ts) }
        }
        return answer
    }
}
