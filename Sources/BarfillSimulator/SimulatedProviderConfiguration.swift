import BarfillCore
import BarfillHTTP
import Foundation

// What the simulated provider knows: keys and their limits, faults to apply, its clock; and its request log.
extension SimulatedProvider {
    /// What one key may do.
    public struct KeyPolicy: Sendable, Hashable {
        /// Limits on Massive requests (none: unlimited).
        public var massive: [RateLimit]
        /// Limits on Finnhub requests (none: unlimited).
        public var finnhub: [RateLimit]
        /// A free Finnhub key gets 403 on candles, as the real one does since candles became paid.
        public var finnhubCandles: Bool

        public init(massive: [RateLimit] = [], finnhub: [RateLimit] = [], finnhubCandles: Bool = true) {
            self.massive = massive
            self.finnhub = finnhub
            self.finnhubCandles = finnhubCandles
        }
    }

    public struct Configuration: Sendable {
        /// Keys the provider knows and what each may do.
        public var keys: [String: KeyPolicy]
        /// Any other non-empty key is accepted with `defaultPolicy` (else it gets 401). On by default.
        public var acceptsAnyKey: Bool
        public var defaultPolicy: KeyPolicy
        /// Tickers whose quiet intraday slots have no bar.
        public var illiquidTickers: Set<String>
        /// Send `Retry-After` (seconds) with 429s. Massive does not document one.
        public var retryAfter: Bool
        /// Send `X-Ratelimit-Reset` (Unix seconds) with 429s, as Finnhub does.
        public var rateLimitReset: Bool
        /// Massive: at most this many bars per page, with `next_url` to the rest.
        public var pageSize: Int?
        public var faultRules: [FaultRule]
        /// Faults at random rates, for requests no injected fault or rule claimed.
        public var randomFaults: RandomFaults?
        /// Rate-limit windows and slow answers run on this clock.
        public var clock: ProviderClock
        /// Every answer is sent this many nominal seconds after the request came in (network and
        /// server time of a real provider); the request counts against the limit on arrival.
        public var latency: Double = 0

        public init(keys: [String: KeyPolicy] = [:], acceptsAnyKey: Bool = true, defaultPolicy: KeyPolicy = KeyPolicy(),
                    illiquidTickers: Set<String> = [], retryAfter: Bool = false, rateLimitReset: Bool = false,
                    pageSize: Int? = nil, faultRules: [FaultRule] = [], randomFaults: RandomFaults? = nil,
                    clock: ProviderClock = .system) {
            self.keys = keys
            self.acceptsAnyKey = acceptsAnyKey
            self.defaultPolicy = defaultPolicy
            self.illiquidTickers = illiquidTickers
            self.retryAfter = retryAfter
            self.rateLimitReset = rateLimitReset
            self.pageSize = pageSize
            self.faultRules = faultRules
            self.randomFaults = randomFaults
            self.clock = clock
        }
    }

    /// One request as the provider saw it.
    public struct LogEntry: Sendable, Hashable {
        /// Nominal Unix seconds on the configured clock.
        public var at: Double
        public var api: ProviderName?
        /// Path and query, with any credential parameter redacted.
        public var path: String
        /// Fingerprint of the key presented (`APIKey.fingerprint`), nil when none was.
        public var keyFingerprint: String?
        public var status: Int
        /// Bars in the answer.
        public var bars: Int
        public var fault: Fault?
    }
}
