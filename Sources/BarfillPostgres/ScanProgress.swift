import BarfillCore

/// What a gap scan verified per series, to be written to `backfill_status` only once the plan
/// made from the scan has been written: a scan that failed afterwards records nothing.
public struct ScanProgress: Sendable {
    /// One series' verified stretch.
    public struct Series: Sendable {
        public var symbolId: String
        public var timeframe: Timeframe
        public var verifiedFrom: Int64
        /// The first missing slot's start, or where the scanned window's bars end.
        public var verifiedThrough: Int64
        public var result: String
    }

    public var series: [Series] = []
    /// The grid the points were found under (`GridOptions.description`); other grids rescan.
    public var grid = ""
    /// Why the scan already knew these cannot be recorded (no `barfill migrate`, a read-only role).
    public var cannotRecordBecause: String?

    public init() {}

    init(series: [Series], grid: String, cannotRecordBecause: String?) {
        self.series = series
        self.grid = grid
        self.cannotRecordBecause = cannotRecordBecause
    }

    /// How recording went.
    public struct Outcome: Sendable, Equatable {
        /// Series whose `backfill_status` row was written.
        public var recorded: Int
        /// Why nothing was recorded, when nothing could be.
        public var notRecordedBecause: String?

        public init(recorded: Int, notRecordedBecause: String?) {
            self.recorded = recorded
            self.notRecordedBecause = notRecordedBecause
        }
    }

    static let upsert = """
        INSERT INTO barfill.backfill_status AS st
            (symbol_id, timeframe, verified_from, verified_through, grid, last_run_at, last_result)
        SELECT v.symbol_id, v.timeframe, v.verified_from, v.through, $5::text, now(), v.result
        FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $6::text[])
            AS v (symbol_id, timeframe, verified_from, through, result)
        ON CONFLICT (symbol_id, timeframe) DO UPDATE SET
            verified_from = EXCLUDED.verified_from, verified_through = EXCLUDED.verified_through,
            grid = EXCLUDED.grid, last_run_at = EXCLUDED.last_run_at, last_result = EXCLUDED.last_result
        """
}

extension GapScanner {
    /// Writes a scan's verified points in one transaction (the second step of
    /// `scan(_:recordingProgress: false)`). A role that may not write them is reported in the
    /// outcome, not thrown: the plan is written already, and the next scan simply rescans.
    public func record(_ progress: ScanProgress) throws -> ScanProgress.Outcome {
        if let reason = progress.cannotRecordBecause { return .init(recorded: 0, notRecordedBecause: reason) }
        guard !progress.series.isEmpty else { return .init(recorded: 0, notRecordedBecause: nil) }
        do {
            let count = try connection.transaction { connection in
                try connection.query(ScanProgress.upsert, [
                    progress.series.map(\.symbolId), progress.series.map(\.timeframe.rawValue),
                    progress.series.map { Timestamp($0.verifiedFrom) }, progress.series.map { Timestamp($0.verifiedThrough) },
                    progress.grid, progress.series.map(\.result),
                ]).affectedRows
            }
            return .init(recorded: count, notRecordedBecause: nil)
        } catch let error as PostgresError where error.isInsufficientPrivilege || error.isReadOnlyTransaction {
            return .init(recorded: 0, notRecordedBecause: "the database role cannot write barfill.backfill_status (\(error.sqlState ?? ""))")
        }
    }
}
