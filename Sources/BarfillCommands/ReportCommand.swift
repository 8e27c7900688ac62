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
            One file, inline SVG and CSS, no script and nothing fetched: open it in any browser. Reads only. \
            The page opens on an overview: a row per series, a cell per week of the window, coloured \
            complete, partly missing, all missing, or confirmed empty / no session; each row links to \
            the series' section. The weekly counts are aggregated in PostgreSQL, so the page and the \
            memory stay small for a whole universe. A series' section draws its full heatmap (rows are \
            sessions, weeks for d1, years for w1 and mn1; columns are slots) for the first --details \
            series that miss bars or hold off-grid bars; the others list the weeks that miss bars. \
            --details all draws every series' heatmap (about 0.17 MB per series-year of h1). The page stays one file.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Write the report to this file.", valueName: "file"))
    var html: String

    @Option(help: ArgumentHelp(
        "Draw full heatmaps for the first N series that miss bars or hold off-grid bars, or for every series with 'all'.",
        valueName: "N|all"))
    var details: DetailLimit = .first(ReportCommand.defaultDetails)

    @OptionGroup(title: "Series") var series: SeriesOptions

    @OptionGroup(title: "Window (default: the 90 days before now)") var window: WindowOptions

    @OptionGroup(title: "Grid options") var grid: GridOptionGroup

    /// Without `--from`, the window is this many days long.
    static let defaultDays: Int64 = 90
    /// Heatmaps drawn by default: enough to look at the worst cases, small enough for 1,000 series.
    static let defaultDetails = 10

    /// How many series get a full heatmap.
    enum DetailLimit: ExpressibleByArgument, Equatable {
        case first(Int)
        case all

        init?(argument: String) {
            if argument == "all" {
                self = .all
            } else if let n = Int(argument), n >= 0, String(n) == argument {
                self = .first(n)
            } else {
                return nil
            }
        }

        var defaultValueDescription: String {
            switch self {
            case .all: "all"
            case .first(let n): String(n)
            }
        }
    }

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
        let options = grid.resolved
        let weeks = CoverageWeeks(from: window.from, until: window.until)
        let limit = details
        let (overview, data) = try await database.run { connection in
            try CoverageQuery(connection: connection).readOverview(
                tickers: tickers, timeframes: timeframes, from: window.from, until: window.until, weeks: weeks,
                slots: { CoverageWeekSlots(grid: Grid(timeframe: $0, options: options),
                                           from: window.from, until: window.until, weeks: weeks) },
                details: { rows in
                    switch limit {
                    case .all: Array(rows.indices)
                    case .first(let n): Array(rows.indices.filter { rows[$0].needsAttention }.prefix(n))
                    }
                })
        }
        let series = data.map { item in
            CoverageSeries(ticker: item.ticker, grid: Grid(timeframe: item.timeframe, options: options),
                           from: window.from, until: window.until, bars: item.bars,
                           confirmedEmpty: item.confirmedEmpty.map { ($0.from, $0.to) })
        }
        let note: String
        switch limit {
        case .all: note = ""
        case .first(let n): note = "No heatmap here: this page draws the first \(n) series that miss bars "
            + "(barfill report --details N|all, or --symbols to narrow the report)."
        }
        let report = CoverageReport(
            subtitle: "\(MarketCalendar.xnys.name) \(options.description) · "
                + "\(UTC.format(window.from)) → \(UTC.format(window.until))",
            weeks: weeks, overview: overview, series: series, detailNote: note)
        try output.write(report.html().utf8)
        let t = report.totals
        FileHandle.standardError.write(Data(("barfill report: \(overview.count) series (\(series.count) drawn in full), \(t.expected) expected, "
            + "\(t.present) present, \(t.missing) missing, \(t.confirmedEmpty) confirmed empty, "
            + "\(t.offGrid) off-grid → \(html)\n").utf8))
    }
}
