import BarfillCore
import BarfillPostgres

/// Which of a chunk's slot starts already hold a bar: the precheck before a fetch, and the
/// slots a provider's silence must not be recorded as empty for.
enum PresentSlotsQuery {
    static let sql = """
        SELECT extract(epoch FROM ts)::bigint
        FROM ohlc_bars
        WHERE symbol_id = $1::uuid AND timeframe = $2 AND ts = ANY($3::timestamptz[])
        """

    static func run(_ connection: PostgresConnection, symbolId: String, timeframe: Timeframe,
                    slotStarts: [Int64]) throws -> Set<Int64> {
        guard !slotStarts.isEmpty else { return [] }
        let rows = try connection.query(sql, [symbolId, timeframe, slotStarts.map(Timestamp.init)])
        var present = Set<Int64>(minimumCapacity: rows.rowCount)
        for row in 0..<rows.rowCount {
            if let ts = try rows.int64(row, 0) { present.insert(ts) }
        }
        return present
    }
}
