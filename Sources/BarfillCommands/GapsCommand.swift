import ArgumentParser
import BarfillCore
import BarfillPostgres
import Foundation

/// `barfill gaps`: find missing bars and write a plan to fill them.
struct Gaps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find missing bars and write a plan to fill them.",
        discussion: """
            Scans ohlc_bars inside PostgreSQL against the XNYS calendar and writes a plan: the missing \
            intervals grouped into the fewest provider requests. The plan goes to --output (or standard \
            output); a summary goes to standard error, and to $GITHUB_STEP_SUMMARY when that is set.
            Incremental by default: a series that `backfill_status` knows is scanned from its last verified \
            point; --full rescans the whole window.
            Exit codes: 0 done (with --detailed-exitcode: no gaps), 2 gaps found (only with \
            --detailed-exitcode), 1 failure, 64 usage error.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup(title: "Grid") var grid: GridOptionGroup
    @OptionGroup(title: "Rate limits (for the plan's duration estimate)") var rates: RateOptions

    @OptionGroup(title: "Series") var series: SeriesOptions

    @Option(help: "Where series come from without --symbols: all (every series with bars) or watchlist (watchlist_items).")
    var universe: ScanRequest.Universe = .all

    /// Slots that have ended by `--until` are expected; default window: the 365 days before now.
    @OptionGroup(title: "Window (default: the 365 days before now)") var window: WindowOptions

    @Flag(help: "Rescan the whole window, even where backfill_status says a series is verified.")
    var full = false

    @Option(help: "Provider for every series (default: each symbol's primary_source).")
    var provider: ProviderName?

    @Option(help: "Plan at most this many provider requests: tails first, then recent interior gaps, then heads.")
    var maxRequests: Int?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the plan to this file instead of standard output.", valueName: "path"))
    var output: String?

    @Option(help: "Summary format: text (standard error) or markdown (standard output when --output is given, else standard error).")
    var format: SummaryFormat = .text

    @Flag(help: "Exit 2 when gaps were found, 0 when none.")
    var detailedExitcode = false

    enum SummaryFormat: String, ExpressibleByArgument, CaseIterable { case text, markdown }

    /// Without `--from`, the window is this many days long.
    static let defaultDays: Int64 = 365

    func validate() throws {
        if let maxRequests, maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
        _ = try window.resolved(defaultDays: Self.defaultDays)
    }

    func run() async throws {
        try await reportingErrors("gaps") {
            let output = self.output.map(OutputFile.init)
            try output?.checkWritable()
            let (from, until) = try window.resolved(defaultDays: Self.defaultDays)
            let request = ScanRequest(
                universe: universe, symbols: try series.tickers()?.map(\.value), timeframes: try series.timeframeList(),
                from: from, until: until, options: grid.resolved, full: full, provider: provider)
            let database = try await self.database.database()
            let (result, source) = try await database.run { connection in
                // The server's own names for itself: never the URL, which may carry a password.
                (try GapScanner(connection: connection).scan(request, recordingProgress: false),
                 Plan.Source(host: connection.host, database: connection.databaseName))
            }
            let limits = try rates.providerLimits()
            let plan = try Planner(limits: limits, maxRequests: maxRequests).plan(
                scans: result.series, grid: grid.resolved, window: Plan.Window(from: from, until: until),
                source: source,
                createdAt: Int64(Date().timeIntervalSince1970))
            if !result.skippedTickers.isEmpty {
                // Names them all (escaped, cut): the row can be fixed or deleted, the rest was scanned.
                let names = result.skippedTickers.map { "\"\(TerminalText.escaped($0))\"" }.joined(separator: ", ")
                let text = "\(result.skippedTickers.count) symbols.ticker value(s) are not tickers and were not scanned: \(names)"
                StandardError.write("barfill gaps: warning: \(text)\n")
                GitHubActions().warning(text, title: "barfill gaps")
            }
            if let output { try output.write(plan.encoded()) } else { FileHandle.standardOutput.write(Data(plan.encoded())) }
            // Only now, with the plan written, is the scan's progress recorded.
            let progress = result.progress
            let recorded = try await database.run { connection in try GapScanner(connection: connection).record(progress) }

            let markdown = plan.markdownSummary()
            switch format {
            case .text: StandardError.write(plan.textSummary(limits: limits))
            case .markdown:
                if output.map({ !$0.isStandardOutput }) == true { print(markdown, terminator: markdown.hasSuffix("\n") ? "" : "\n") }
                else { StandardError.write(markdown) }
            }
            if let note = recorded.notRecordedBecause { StandardError.write("note: progress not recorded: \(note)\n") }
            let github = GitHubActions()
            github.appendSummary(markdown)
            if plan.summary.offGrid > 0 {
                github.warning("\(plan.summary.offGrid) bars lie off the grid (\(grid.resolved.description)); they are counted, never gaps",
                               title: "barfill gaps")
            }
            if detailedExitcode, !plan.chunks.isEmpty { throw ExitCode(ExitCodes.gapsFound) }
        }
    }
}

extension ScanRequest.Universe: ExpressibleByArgument {}
extension ProviderName: ExpressibleByArgument {}
