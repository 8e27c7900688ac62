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

    @Option(help: ArgumentHelp("Tickers to scan, comma-separated (default: the universe).", valueName: "AAPL,MSFT"))
    var symbols: String?

    @Option(help: ArgumentHelp("Timeframes to scan, comma-separated: m15,h1,h4,d1,w1 … (default: every timeframe with bars).",
                               valueName: "h1,d1"))
    var timeframes: String?

    @Option(help: "Where series come from without --symbols: all (every series with bars) or watchlist (watchlist_items).")
    var universe: ScanRequest.Universe = .all

    @Option(help: ArgumentHelp("Start of the window: a date (00:00 New York) or an RFC 3339 instant (default: 365 days before --until).",
                               valueName: "date|instant"))
    var from: String?

    @Option(help: ArgumentHelp("End of the window: slots that have ended by then are expected (a date means 00:00 New York; default: now).",
                               valueName: "date|instant"))
    var until: String?

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

    func validate() throws {
        if let maxRequests, maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
        _ = try parsedSymbols()
        _ = try parsedTimeframes()
        let (from, until) = try window()
        guard from < until else { throw ValidationError("--from must be before --until") }
    }

    func run() async throws {
        try await reportingErrors("gaps") {
            let output = self.output.map(OutputFile.init)
            try output?.checkWritable()
            let (from, until) = try window()
            let request = ScanRequest(
                universe: universe, symbols: try parsedSymbols(), timeframes: try parsedTimeframes(),
                from: from, until: until, options: grid.resolved, full: full, provider: provider)
            let database = try await self.database.database()
            let (result, source) = try await database.run { connection in
                // The server's own names for itself: never the URL, which may carry a password.
                (try GapScanner(connection: connection).scan(request, recordingProgress: false),
                 Plan.Source(host: connection.host, database: connection.databaseName))
            }
            var limits = ProviderLimits.default
            for name in ProviderName.allCases {
                // The tightest of the provider's limits, as requests per minute.
                if let perMinute = try rates.limits(for: name).map({ Double($0.requests) * 60 / $0.window }).min() {
                    limits.requestsPerMinute[name] = max(1, Int(perMinute.rounded(.down)))
                }
            }
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

    private func parsedSymbols() throws -> [String]? {
        guard let symbols else { return nil }
        let tickers = symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        for ticker in tickers where Ticker(ticker) == nil {
            throw ValidationError("--symbols: '\(ticker)' is not a ticker (letters, digits, '.' and '-', at most 16)")
        }
        guard !tickers.isEmpty else { throw ValidationError("--symbols is empty") }
        return tickers
    }

    private func parsedTimeframes() throws -> [Timeframe]? {
        guard let timeframes else { return nil }
        return try timeframes.split(separator: ",").map { text in
            let name = text.trimmingCharacters(in: .whitespaces)
            guard let timeframe = Timeframe(rawValue: name) else {
                throw ValidationError("--timeframes: '\(name)' is not one of \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return timeframe
        }
    }

    /// The scan window in Unix seconds: dates are 00:00 New York, instants are RFC 3339.
    private func window() throws -> (Int64, Int64) {
        func instant(_ text: String, _ option: String) throws -> Int64 {
            if let date = LocalDate(iso: text) {
                try MarketCalendar.xnys.checkInRange(date)
                return NewYork.midnight(date)
            }
            guard let value = UTC.parse(text) else {
                throw ValidationError("\(option): '\(text)' is neither a date (2024-03-08) nor an RFC 3339 instant (2024-03-08T15:00:00Z)")
            }
            return value
        }
        let until = try until.map { try instant($0, "--until") } ?? Int64(Date().timeIntervalSince1970)
        let from = try from.map { try instant($0, "--from") } ?? until - 365 * 86_400
        return (from, until)
    }
}

extension ScanRequest.Universe: ExpressibleByArgument {}
extension ProviderName: ExpressibleByArgument {}
