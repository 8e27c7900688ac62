import BarfillCore
import Logging

extension ProviderSettings {
    /// The client for this provider: the one place a `ProviderName` becomes `MassiveClient` or
    /// `FinnhubClient`. One per worker; workers using the same key share `limiter`.
    public func makeClient(limiter: RateLimiter, logger: Logger? = nil) throws(ProviderError) -> any BarProvider {
        switch provider {
        case .massive:
            try MassiveClient(settings: self, limiter: limiter, logger: logger ?? Logger(label: "barfill.massive"))
        case .finnhub:
            try FinnhubClient(settings: self, limiter: limiter, logger: logger ?? Logger(label: "barfill.finnhub"))
        }
    }
}

extension RateLimit {
    /// The requests per minute this limit sustains.
    public var requestsPerMinute: Double { Double(requests) * 60 / window }
}

extension Array where Element == RateLimit {
    /// The sustained rate of the tightest limit, in requests per minute; nil without limits.
    public var requestsPerMinute: Double? { map(\.requestsPerMinute).min() }
}
