import ArgumentParser
import BarfillCore
import BarfillHTTP
import Foundation
import Logging

/// `barfill fetch`: what a provider returns for one series, validated, as JSON lines. No database.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch one series from a provider and print the validated bars as JSON lines.",
        discussion: """
            Prints {"ts","open","high","low","close","volume"} per bar (ts in UTC) on standard output and a \
            summary, with any rejected bars, on standard error. Keys come from MASSIVE_API_KEY (or \
            POLYGON_API_KEY) and FINNHUB_API_KEY, base URLs from MASSIVE_BASE_URL and FINNHUB_BASE_URL.
            The window is --from … --until, half-open; a date means 00:00 New York. The old spelling             --to DATE (that day included) is still accepted but deprecated.
            Exit status 75 when a rate limit or --max-requests stopped the fetch early.
            """)

    @Option(help: "massive or finnhub.")
    var provider: ProviderName

    @Option(help: "The ticker, e.g. AAPL or BRK.B.")
    var symbol: String

    @Option(help: "m1, m5, m15, m30, h1, h4, d1, w1 or mn1.")
    var timeframe: String

    @OptionGroup(title: "Window (--from is required)") var window: WindowOptions

    @Option(help: ArgumentHelp("Deprecated spelling of the end: the last day, included (YYYY-MM-DD), or an instant, excluded. Use --until.",
                               valueName: "date|instant"))
    var to: String?

    @Option(help: "Stop (resumably, exit 75) after this many requests.")
    var maxRequests: Int?

    @Flag(name: .shortAndLong, help: "Log every request and response (keys redacted) on standard error.")
    var verbose = false

    @OptionGroup var rate: RateOptions

    func validate() throws {
        _ = try SeriesOptions.ticker(symbol, option: "--symbol")
        _ = try SeriesOptions.timeframe(timeframe, option: "--timeframe")
        _ = try resolvedWindow()
        if let maxRequests, maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
    }

    /// `--from` … `--until` (half-open), or the old `--from` … `--to` (a date included).
    func resolvedWindow() throws -> (from: Int64, until: Int64) {
        guard window.from != nil else { throw ValidationError("--from is required: a date (2024-03-01) or an RFC 3339 instant") }
        guard window.until != nil || to != nil else {
            throw ValidationError("--until is required: a date (00:00 New York, excluded) or an RFC 3339 instant")
        }
        return try window.resolved(defaultDays: nil, legacyTo: to)
    }

    func run() async throws {
        let name = provider
        var logger = Logger(label: "barfill.fetch") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .trace : .warning
        let settings = try ProviderSettings.fromEnvironment(name)
        let limiter = RateLimiter(provider: name, key: settings.key, limits: try rate.limits(for: name),
                                  budget: RequestBudget(maxRequests: maxRequests), clock: rate.clock)
        let client = try settings.makeClient(limiter: limiter, logger: logger)
        let window = try resolvedWindow()
        let result = try await client.fetch(ticker: try SeriesOptions.ticker(symbol, option: "--symbol"),
                                            timeframe: try SeriesOptions.timeframe(timeframe, option: "--timeframe"),
                                            from: window.from, to: window.until)
        var out = ""
        for bar in result.bars {
            out += #"{"ts":"\#(UTC.format(bar.ts))","open":\#(bar.open),"high":\#(bar.high),"low":\#(bar.low),"close":\#(bar.close),"volume":\#(bar.volume)}"#
            out += "\n"
            if out.utf8.count > 1 << 16 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        printError(Self.summary(result, provider: name))
        if result.stop != nil { throw ExitCode(ExitCodes.resumable) }
    }

    static func summary(_ result: FetchResult, provider: ProviderName) -> String {
        var text = "\(result.bars.count) bars from \(provider.rawValue) in \(result.requests) request(s), \(result.pages) page(s)"
        if !result.rejections.isEmpty {
            let counts = result.rejectionCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key): \($0.value)" }
            text += "; \(result.rejections.count) rejected (\(counts.joined(separator: ", ")))"
        }
        if let stop = result.stop { text += "\n\(stop); run again to fetch the whole window" }
        return text
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
