import ArgumentParser
import BarfillCore
import BarfillHTTP

/// `--rate massive=5/min,finnhub=60/min`: the request limits barfill paces itself to.
struct RateOptions: ParsableArguments {
    @Option(name: .customLong("rate"),
            help: ArgumentHelp("Request limits per provider, e.g. massive=5/min,finnhub=60/min. Name a provider twice for two limits (finnhub=60/min,finnhub=30/s). Defaults: massive 5/min; finnhub 60/min and 30/s.",
                               valueName: "provider=N/unit,..."))
    var rate: String?

    @Option(name: .customLong("time-scale"),
            help: ArgumentHelp("Real seconds per provider second (tests and demos against `barfill simulate-provider --time-scale`).",
                               visibility: .hidden))
    var timeScale: Double = 1

    func validate() throws {
        _ = try parsed()
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
    }

    /// The limits for `provider`: those given with `--rate`, else the provider's published ones.
    func limits(for provider: ProviderName) throws -> [RateLimit] {
        try parsed()[provider] ?? RateLimit.defaults(for: provider)
    }

    /// The planner's view of the limits: each provider's tightest limit, in whole requests per minute.
    func providerLimits() throws -> ProviderLimits {
        var limits = ProviderLimits.default
        for name in ProviderName.allCases {
            if let perMinute = try self.limits(for: name).requestsPerMinute {
                limits.requestsPerMinute[name] = max(1, Int(perMinute.rounded(.down)))
            }
        }
        return limits
    }

    private func parsed() throws -> [ProviderName: [RateLimit]] {
        var result: [ProviderName: [RateLimit]] = [:]
        guard let rate else { return result }
        for item in rate.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let provider = ProviderName(rawValue: parts[0].trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--rate: '\(item)' is not provider=N/unit (providers: \(ProviderName.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let limit = RateLimit(parsing: parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--rate: '\(parts[1])' is not a limit such as 5/min, 30/s or 100/h")
            }
            result[provider, default: []].append(limit)
        }
        return result
    }

    /// The clock limits are measured on. Scaled clocks share a fixed epoch, so a scaled
    /// `simulate-provider` in another process reads the same nominal time.
    var clock: ProviderClock {
        timeScale == 1 ? .system : ProviderClock(timeScale: timeScale, anchor: ProviderClock.scaledEpoch)
    }
}
