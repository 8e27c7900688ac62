import BarfillCore

/// A provider budget shared with every other process spending the same key (PostgreSQL for
/// `apply`), which `RateLimiter` draws from when given one. It runs on its own server's clock:
/// every duration here is real seconds, whatever the limiter's `ProviderClock` scale.
public protocol SharedProviderBudget: Sendable {
    /// Grants one request if it fits every limit (`limits` in real seconds) and the key is not
    /// blocked, recording it before it is sent; otherwise says how long to wait at least.
    /// `inFlightSeconds`: how long a grant never answered holds its place before it counts as sent.
    func grant(provider: ProviderName, keyFingerprint: String, limits: [RateLimit],
               inFlightSeconds: Double) async throws -> BudgetGrant
    /// The answer to grant `id` arrived: the request counts from now.
    func answered(_ id: String) async throws
    /// Grant `id` never left (connection refused): it no longer counts.
    func neverSent(_ id: String) async throws
    /// A 429: no process is granted a request with this key for `seconds` from now.
    func block(provider: ProviderName, keyFingerprint: String, seconds: Double) async throws
}
