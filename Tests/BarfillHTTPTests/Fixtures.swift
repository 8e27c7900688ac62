import BarfillCore
import Foundation
import Logging
import Synchronization
@testable import BarfillHTTP
import BarfillSimulator

/// The week of 2024-03-04 (Mon) … 2024-03-08 (Fri): five full sessions, before the DST change of March 10.
enum March2024 {
    static let monday = LocalDate(year: 2024, month: 3, day: 4)!
    static let saturday = LocalDate(year: 2024, month: 3, day: 9)!
    static let from = NewYork.midnight(monday)
    static let to = NewYork.midnight(saturday)
    static var sessions: ArraySlice<Session> { try! MarketCalendar.xnys.sessions(from: monday, through: saturday) }
    /// The weekend after it: no session, no bar.
    static let weekendFrom = NewYork.midnight(saturday)
    static let weekendTo = NewYork.midnight(saturday.adding(days: 2))
}

let aapl = Ticker("AAPL")!
let goodKey = "sim-good-key-0123456789abcdef"
let freeKey = "sim-free-key-fedcba9876543210"

/// Retries that do not make tests wait.
let quickRetry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05)

/// A simulated provider and clients that talk to it.
struct Loopback {
    let provider: SimulatedProvider
    let clock: ProviderClock

    init(_ configure: (inout SimulatedProvider.Configuration) -> Void = { _ in }) throws {
        var configuration = SimulatedProvider.Configuration(
            keys: [goodKey: .init(), freeKey: .init(finnhubCandles: false)], acceptsAnyKey: false)
        configure(&configuration)
        provider = try SimulatedProvider(configuration: configuration)
        clock = configuration.clock
    }

    func settings(_ name: ProviderName, key: String = goodKey) throws -> ProviderSettings {
        try ProviderSettings(provider: name, baseURL: name == .massive ? provider.massiveBaseURL : provider.finnhubBaseURL,
                             key: APIKey(key)!)
    }

    func limiter(_ name: ProviderName, key: String = goodKey, limits: [RateLimit] = [RateLimit(requests: 1_000, per: 1)],
                 budget: RequestBudget = .unlimited, maxRateLimited: Int = 3) -> RateLimiter {
        RateLimiter(provider: name, key: APIKey(key)!, limits: limits, budget: budget, clock: clock,
                    maxRateLimitedResponses: maxRateLimited)
    }

    func massive(key: String = goodKey, limiter: RateLimiter? = nil, http: HTTPClient? = nil,
                 logger: Logger = Logger(label: "test")) throws -> MassiveClient {
        try MassiveClient(settings: settings(.massive, key: key), limiter: limiter ?? self.limiter(.massive, key: key),
                          http: http, retry: quickRetry, logger: logger)
    }

    func finnhub(key: String = goodKey, limiter: RateLimiter? = nil, logger: Logger = Logger(label: "test")) throws -> FinnhubClient {
        try FinnhubClient(settings: settings(.finnhub, key: key), limiter: limiter ?? self.limiter(.finnhub, key: key),
                          retry: quickRetry, logger: logger)
    }
}

/// Expected bars straight from the generator, for comparison with what came over the wire.
func generated(_ ticker: String, _ timeframe: Timeframe, from: Int64, to: Int64, extended: Bool = true,
               illiquid: Bool = false) -> [Bar] {
    SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from, through: to - 1, extendedHours: extended,
                       illiquid: illiquid).map(\.bar)
}

/// Collects every log line, fully rendered, at trace level.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "captured") { _ in Handler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
        }
    }
}
