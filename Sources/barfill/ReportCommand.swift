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

    @Option(help: "Only these tickers, comma-separated (default: every series that has bars in the window).")
    var symbols: String?

    @Option(help: "Only these timeframes, comma-separated, e.g. h1,d1.")
    var timeframes: String?

    @Option(help: "Start of the window: YYYY-MM-DD (00:00 New York time) or an RFC 3339 UTC instant (default: 90 days before --until).")
    var from: String?

    @Option(help: "End of the window, exclusive: YYYY-MM-DD (00:00 New York time) or an RFC 3339 UTC instant (default: now).")
    var until: String?

    @OptionGroup(title: "Grid options") var grid: GridOptionGroup

    func validate() throws {
        _ = try tickers()
        _ = try timeframeList()
        _ = try window()
    }

    func run() async throws {
        try await reportingErrors("report") { try await report() }
    }

    private func report() async throws {
        let output = OutputFile(html)
        try output.checkWritable()
        let tickers = try tickers(), timeframes = try timeframeList(), window = try window()
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

    private func tickers() throws -> [Ticker] {
        try list(symbols).map { text in
            guard let ticker = Ticker(text.uppercased()) else {
                throw ValidationError("--symbols: '\(text)' is not a ticker (1-16 of A-Z 0-9 . -)")
            }
            return ticker
        }
    }

    private func timeframeList() throws -> [Timeframe] {
        try list(timeframes).map { text in
            guard let timeframe = Timeframe(rawValue: text) else {
                throw ValidationError("--timeframes: '\(text)' is not one of "
                    + Timeframe.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return timeframe
        }
    }

    private func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func window() throws -> (from: Int64, until: Int64) {
        let until = try until.map { try Self.instant($0, option: "--until") } ?? Int64(Date().timeIntervalSince1970)
        let from = try from.map { try Self.instant($0, option: "--from") } ?? until - 90 * 86_400
        guard from < until else { throw ValidationError("--from must be before --until") }
        return (from, until)
    }

    private static func instant(_ text: String, option: String) throws -> Int64 {
        if let date = LocalDate(iso: text) { return NewYork.midnight(date) }
        if let instant = UTC.parse(text) { return instant }
        throw ValidationError("\(option) \(text) is neither a date (YYYY-MM-DD) nor an RFC 3339 UTC instant")
    }
}
