import ArgumentParser
import BarfillCore
import BarfillPostgres
import Foundation

/// `barfill report --html FILE`: the coverage picture, one self-contained HTML page.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML heatmap of which bars are present, missing, confirmed empty or off the grid.",
        discussion: """
            One file, inline SVG and CSS, no script and nothing fetched: open it in any browser. \
            Rows are sessions (weeks for d1, years for w1 and mn1), columns are slots. Reads only.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Write the report to this file.", valueName: "file"))
    var html: String

    @OptionGroup(title: "Series") var series: SeriesOptions

    @OptionGroup(title: "Window (default: the 90 days before now)") var window: WindowOptions

    @OptionGroup(title: "Grid options") var grid: GridOptionGroup

    /// Without `--from`, the window is this many days long.
    static let defaultDays: Int64 = 90

    func validate() throws {
        _ = try window.resolved(defaultDays: Self.defaultDays)
    }

    func run() async throws {
        try await reportingErrors("report") { try await report() }
    }

    private func report() async throws {
        let output = OutputFile(html)
        try output.checkWritable()
        let tickers = try self.series.tickers() ?? [], timeframes = try self.series.timeframeList() ?? []
        let window = try self.window.resolved(defaultDays: Self.defaultDays)
        let database = try await database.database()
        let data = try await database.run { connection in
            try CoverageQuery(connection: connection)
                .read(tickers: tickers, timeframes: timeframes, from: window.from, until: window.until)
        }
        let options = grid.resolved
        let series = data.map { item in
            CoverageSeries(ticker: item.ticker, grid: Grid(timeframe: item.timeframe, options: options),
                           from: window.from, until: window.until, bars: item.bars,
                           confirmedEmpty: item.confirmedEmpty.map { ($0.from, $0.to) })
        }
        let report = CoverageReport(
            subtitle: "\(MarketCalendar.xnys.name) \(options.description) · "
                + "\(UTC.format(window.from)) → \(UTC.format(window.until))",
            series: series)
        try output.write(report.html().utf8)
        let t = report.totals
        FileHandle.standardError.write(Data(("barfill report: \(series.count) series, \(t.expected) expected, "
            + "\(t.present) present, \(t.missing) missing, \(t.confirmedEmpty) confirmed empty, "
            + "\(t.offGrid) off-grid → \(html)\n").utf8))
    }
}
