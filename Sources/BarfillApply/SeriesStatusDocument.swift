import BarfillCore
import BarfillPostgres
import BarfillSQLite

/// One series as `barfill status --format json` writes it: the database's overview and the
/// checkpoint's progress, keys as users' scripts read them.
public struct SeriesStatusDocument: Encodable, Sendable {
    public struct Checkpoint: Encodable, Sendable {
        var chunks, finished, failed: Int
    }

    var symbol, timeframe: String
    var bars, confirmedEmptyRanges: Int
    var oldest, newest, lastRunAt, verifiedThrough: UTCTime?
    var lastResult: String?
    var checkpoint: Checkpoint?

    enum CodingKeys: String, CodingKey {
        case symbol, timeframe, bars, oldest, newest, checkpoint
        case confirmedEmptyRanges = "confirmed_empty_ranges", lastRunAt = "last_run_at"
        case lastResult = "last_result", verifiedThrough = "verified_through"
    }

    public init(_ series: SeriesOverview, progress: SeriesProgress?) {
        symbol = series.symbol
        timeframe = series.timeframe
        bars = series.bars
        confirmedEmptyRanges = series.confirmedEmptyRanges
        oldest = series.oldest.map(UTCTime.init)
        newest = series.newest.map(UTCTime.init)
        lastRunAt = series.lastRunAt.map(UTCTime.init)
        verifiedThrough = series.verifiedThrough.map(UTCTime.init)
        lastResult = series.lastResult
        checkpoint = progress.map { Checkpoint(chunks: $0.chunks, finished: $0.finished, failed: $0.failed) }
    }

    /// The whole `status --format json` text: an array, in the plan's JSON style.
    public static func text(_ documents: [SeriesStatusDocument]) -> String {
        // Only strings and integers: encoding cannot fail.
        (try? JSONValue.canonicalText(of: documents)) ?? "[]\n"
    }
}
