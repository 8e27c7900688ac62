import BarfillCore
import BarfillHTTP
import Foundation

/// The provider side of an apply run: each provider's settings from the environment, one shared
/// `RateLimiter` per provider, and the factory that gives every worker its own client.
public struct ApplyProviders: Sendable {
    public let settings: [ProviderName: ProviderSettings]
    public let limiters: [ProviderName: RateLimiter]

    /// Reads the settings of every provider in `providers` (a missing key is an error before any work).
    /// `deadlineSeconds` from now, in real seconds, is translated to the limiters' (possibly scaled) clock.
    public init(providers: Set<ProviderName>, limits: (ProviderName) throws -> [RateLimit], maxRequests: Int?,
                deadlineSeconds: Int64?, clock: ProviderClock,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var settings: [ProviderName: ProviderSettings] = [:]
        var limiters: [ProviderName: RateLimiter] = [:]
        for provider in providers.sorted() {
            let found = try ProviderSettings.fromEnvironment(provider, environment)
            let providerLimits = try limits(provider)
            settings[provider] = found
            // The deadline in the limiter's nominal time, so a long wait for the window is not started.
            let nominalDeadline = deadlineSeconds.map { clock.now() + Double($0) / clock.timeScale }
            limiters[provider] = RateLimiter(provider: provider, key: found.key, limits: providerLimits,
                                             budget: RequestBudget(maxRequests: maxRequests, deadline: nominalDeadline),
                                             clock: clock)
        }
        self.settings = settings
        self.limiters = limiters
    }

    /// The run's pace for the ETA: the slowest provider's sustained rate, in requests per real minute.
    public static func requestsPerMinute(providers: Set<ProviderName>, limits: (ProviderName) throws -> [RateLimit],
                                         clock: ProviderClock) rethrows -> Double {
        var slowest = Double.infinity
        for provider in providers { slowest = min(slowest, try limits(provider).requestsPerMinute ?? .infinity) }
        return (slowest.isFinite ? slowest : 60) / clock.timeScale
    }

    /// What `ApplyRunner` needs to open one database connection and one provider client per worker.
    /// Every limiter draws from the key's budget recorded in that database, shared with every other
    /// process spending the same key (`--rate` is the key's limit, not one process's).
    public func connections(databaseURL: String?) async -> WorkerWiring {
        let sharedBudget = PostgresProviderBudget(databaseURL: databaseURL)
        for limiter in limiters.values { await limiter.share(sharedBudget) }
        let settings = self.settings
        return WorkerWiring(databaseURL: databaseURL, limiters: limiters) { provider, limiter in
            guard let found = settings[provider] else { preconditionFailure("settings read for every provider") }
            return try found.makeClient(limiter: limiter)
        }
    }
}
