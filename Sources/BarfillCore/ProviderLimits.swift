/// How much each provider serves per HTTP call and how many calls per minute it allows:
/// what the planner groups gaps by and what a plan's duration estimate assumes.
public struct ProviderLimits: Sendable, Hashable {
    /// Requests per minute each provider allows (free tiers by default).
    public var requestsPerMinute: [ProviderName: Int]

    /// Massive's free tier: 5 requests per minute. Finnhub: 60 per minute.
    public static let `default` = ProviderLimits(requestsPerMinute: [.massive: 5, .finnhub: 60])

    public init(requestsPerMinute: [ProviderName: Int]) {
        self.requestsPerMinute = requestsPerMinute
    }

    /// The most one HTTP call returns.
    public enum Span: Sendable, Hashable {
        /// At most this many sessions' worth of extended-hours minutes (04:00–20:00 New York, 960 each):
        /// Massive's `limit` counts base minute aggregates, pre- and after-market included, up to 50,000.
        case sessions(Int)
        /// A window at most this many days long (`to - from`).
        case days(Int)
    }

    /// Extended-hours minutes in one session: 04:00–20:00 New York.
    public static let extendedMinutesPerSession = 960
    /// Massive's largest `limit`: base aggregates (minutes for intraday, days for d1 and longer).
    public static let massiveBaseAggregates = 50_000

    /// What one request of `timeframe` bars from `provider` covers.
    public static func span(of provider: ProviderName, _ timeframe: Timeframe) -> Span {
        switch (provider, timeframe.isIntraday) {
        case (.massive, true):
            // Counted per whole session touched, since a request may be made by date: 52 × 960 = 49,920.
            .sessions(massiveBaseAggregates / extendedMinutesPerSession)
        case (.massive, false):
            .days(massiveBaseAggregates)
        case (.finnhub, true):
            // Finnhub returns at most one month of intraday candles per call (finnhubio/Finnhub-API#445).
            // 28 days is within one month under any reading of "month", so no answer is cut short.
            .days(28)
        case (.finnhub, false):
            // Finnhub documents no span for daily candles but has been seen to cap answers near 5,000
            // points (finnhubio/Finnhub-API#24); 5,000 calendar days hold about 3,450 sessions.
            .days(5_000)
        }
    }

    /// Seconds `requests` take at these rates, providers one after another (as `apply` runs with
    /// `--concurrency 1`): for each provider, ⌈n × 60 / rate⌉.
    public func seconds(for requests: [ProviderName: Int]) -> Int {
        var total = 0
        for (provider, n) in requests where n > 0 {
            let rate = max(1, requestsPerMinute[provider] ?? 1)
            total += (n * 60 + rate - 1) / rate
        }
        return total
    }
}

extension ProviderLimits {
    /// Why `chunk`'s window is more than its provider serves in `chunk.requests` calls, or nil when it fits.
    public func excess(of chunk: Plan.Chunk, calendar: MarketCalendar = .xnys) -> String? {
        switch ProviderLimits.span(of: chunk.provider, chunk.timeframe) {
        case let .days(days):
            let most = Int64(days) * 86_400 * Int64(chunk.requests)
            guard chunk.to - chunk.from > most else { return nil }
            return "\(chunk.provider.rawValue) serves at most \(days) days of \(chunk.timeframe.rawValue) bars per request, and \(Plan.count(chunk.requests, "request")) cannot cover \(UTC.format(chunk.from)) – \(UTC.format(chunk.to))"
        case let .sessions(sessions):
            let touched = ProviderLimits.sessionsTouched(from: chunk.from, to: chunk.to, calendar: calendar)
            guard touched > sessions * chunk.requests else { return nil }
            return "\(chunk.provider.rawValue) serves at most \(sessions) sessions of extended-hours minutes per request, and \(UTC.format(chunk.from)) – \(UTC.format(chunk.to)) touches \(touched) sessions in \(Plan.count(chunk.requests, "request"))"
        }
    }
}
