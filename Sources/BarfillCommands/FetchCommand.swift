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
            Exit status 75 when a rate limit or --max-requests stopped the fetch early.
            """)

    @Option(help: "massive or finnhub.")
    var provider: String

    @Option(help: "The ticker, e.g. AAPL or BRK.B.")
    var symbol: String

    @Option(help: "m1, m5, m15, m30, h1, h4, d1, w1 or mn1.")
    var timeframe: String

    @Option(help: "First day (YYYY-MM-DD, from 00:00 New York) or an instant (2024-03-01T14:30:00Z).")
    var from: String

    @Option(help: "Last day, included (YYYY-MM-DD), or an instant, excluded.")
    var to: String

    @Option(help: "Stop (resumably, exit 75) after this many requests.")
    var maxRequests: Int?

    @Flag(name: .shortAndLong, help: "Log every request and response (keys redacted) on standard error.")
    var verbose = false

    @OptionGroup var rate: RateOptions

    func validate() throws {
        guard ProviderName(rawValue: provider) != nil else { throw ValidationError("--provider must be massive or finnhub") }
        guard Ticker(symbol) != nil else { throw ValidationError("--symbol '\(symbol)' is not a ticker (A-Z, 0-9, '.', '-')") }
        guard Timeframe(rawValue: timeframe) != nil else {
            throw ValidationError("--timeframe must be one of \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let start = Self.instant(from, end: false), let end = Self.instant(to, end: true) else {
            throw ValidationError("--from and --to take YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
        }
        guard start < end else { throw ValidationError("--from must come before --to") }
        if let maxRequests, maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
    }

    /// A date means 00:00 New York (of the next day for an inclusive `--to`); an instant is taken as is.
    static func instant(_ text: String, end: Bool) -> Int64? {
        if let date = LocalDate(iso: text) { return NewYork.midnight(end ? date.adding(days: 1) : date) }
        return UTC.parse(text)
    }

    func run() async throws {
        let name = ProviderName(rawValue: provider)!
        var logger = Logger(label: "barfill.fetch") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .trace : .warning
        let result: FetchResult
        do {
            let settings = try ProviderSettings.fromEnvironment(name)
            let limiter = RateLimiter(provider: name, key: settings.key, limits: try rate.limits(for: name),
                                      budget: RequestBudget(maxRequests: maxRequests), clock: rate.clock)
            let client: any BarProvider = switch name {
            case .massive: try MassiveClient(settings: settings, limiter: limiter, logger: logger)
            case .finnhub: try FinnhubClient(settings: settings, limiter: limiter, logger: logger)
            }
            result = try await client.fetch(ticker: Ticker(symbol)!, timeframe: Timeframe(rawValue: timeframe)!,
                                            from: Self.instant(from, end: false)!, to: Self.instant(to, end: true)!)
        } catch let error as ProviderError {
            printError("barfill fetch: \(error.localizedDescription)")
            switch error {
            case .missingKey, .invalidBaseURL, .unsupportedTimeframe, .invalidWindow: throw ExitCode(64)
            default: throw ExitCode(1)
            }
        }
        var out = ""
        for bar in result.bars {
            out += #"{"ts":"\#(UTC.format(bar.ts))","open":\#(bar.open),"high":\#(bar.high),"low":\#(bar.low),"close":\#(bar.close),"volume":\#(bar.volume)}"#
            out += "\n"
            if out.utf8.count > 1 << 16 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        printError(Self.summary(result, provider: name))
        if result.stop != nil { throw ExitCode(75) }
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
