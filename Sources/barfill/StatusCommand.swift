import ArgumentParser
import BarfillApply
import BarfillCore
import BarfillPostgres
import BarfillSQLite
import Foundation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each series' bar count, oldest and newest bar, backfill status and checkpoint progress.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only these tickers, comma-separated (default: every series that has bars).")
    var symbols: String?

    @Option(help: "Only these timeframes, comma-separated, e.g. h1,d1.")
    var timeframes: String?

    @Option(help: "The checkpoint file whose progress to show.")
    var checkpoint: String = CheckpointStore.defaultPath

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    func validate() throws {
        _ = try tickers()
        _ = try timeframeList()
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    private func tickers() throws -> [String]? {
        guard let symbols else { return nil }
        return try symbols.split(separator: ",").map { part in
            guard let ticker = Ticker(String(part)) else { throw ValidationError("\(part) is not a ticker") }
            return ticker.value
        }
    }

    private func timeframeList() throws -> [Timeframe]? {
        guard let timeframes else { return nil }
        return try timeframes.split(separator: ",").map { part in
            guard let timeframe = Timeframe(rawValue: String(part)) else {
                throw ValidationError("\(part) is not a timeframe (\(Timeframe.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return timeframe
        }
    }

    func run() async throws {
        try await reportingErrors("status") {
            let tickers = try tickers()
            let timeframes = try timeframeList()
            let database = try await self.database.database()
            let series = try await database.run { connection in
                try SeriesOverviewQuery.run(connection, symbols: tickers, timeframes: timeframes)
            }
            var progress: [String: SeriesProgress] = [:]
            if FileManager.default.fileExists(atPath: checkpoint) {
                for row in try CheckpointStore(path: checkpoint, exclusive: false).seriesProgress() {
                    progress["\(row.symbol) \(row.timeframe)"] = row
                }
            }
            if format == "json" {
                print(json(series, progress))
            } else {
                print(table(series, progress), terminator: "")
            }
        }
    }

    private func table(_ series: [SeriesOverview], _ progress: [String: SeriesProgress]) -> String {
        guard !series.isEmpty else { return "no bars for the requested series\n" }
        var table = TextTable(header: ["symbol", "tf", "bars", "oldest", "newest", "last run", "last result", "empty ranges", "checkpoint"])
        for s in series {
            let p = progress["\(s.symbol) \(s.timeframe)"]
            table.append([s.symbol, s.timeframe, String(s.bars), s.oldest.map(UTC.format) ?? "-", s.newest.map(UTC.format) ?? "-",
                          s.lastRunAt.map(UTC.format) ?? "-", s.lastResult ?? "-", String(s.confirmedEmptyRanges),
                          p.map { "\($0.finished)/\($0.chunks) chunks" + ($0.failed > 0 ? ", \($0.failed) failed" : "") } ?? "-"])
        }
        // Tickers and results come from the database: escaped and cut, so no row can move the terminal.
        table.cellLimit = 40
        return table.rendered()
    }

    private func json(_ series: [SeriesOverview], _ progress: [String: SeriesProgress]) -> String {
        let objects: [[String: Any]] = series.map { s in
            var o: [String: Any] = ["symbol": s.symbol, "timeframe": s.timeframe, "bars": s.bars,
                                    "confirmed_empty_ranges": s.confirmedEmptyRanges]
            if let v = s.oldest { o["oldest"] = UTC.format(v) }
            if let v = s.newest { o["newest"] = UTC.format(v) }
            if let v = s.lastRunAt { o["last_run_at"] = UTC.format(v) }
            if let v = s.lastResult { o["last_result"] = v }
            if let v = s.verifiedThrough { o["verified_through"] = UTC.format(v) }
            if let p = progress["\(s.symbol) \(s.timeframe)"] {
                o["checkpoint"] = ["chunks": p.chunks, "finished": p.finished, "failed": p.failed]
            }
            return o
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
