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

    @OptionGroup(title: "Series") var series: SeriesOptions

    @Option(help: "The checkpoint file whose progress to show.")
    var checkpoint: String = CheckpointStore.defaultPath

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    func run() async throws {
        try await reportingErrors("status") {
            let tickers = try series.tickers()?.map(\.value)
            let timeframes = try series.timeframeList()
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
            if format == .json {
                FileHandle.standardOutput.write(Data(json(series, progress).utf8))
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
        SeriesStatusDocument.text(series.map { SeriesStatusDocument($0, progress: progress["\($0.symbol) \($0.timeframe)"]) })
    }
}
