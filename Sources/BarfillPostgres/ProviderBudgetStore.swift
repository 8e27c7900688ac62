import BarfillCore

/// The provider budget shared by every process spending one key (migration 0004): one statement
/// (one short transaction) per call, times from the server's clock, pooler-safe.
public struct ProviderBudgetStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// Grants one request if it fits every limit (`requests` in any `seconds`, real seconds) and the
    /// key is not blocked; the grant is committed before this returns, so it counts even if the
    /// caller dies before sending. `inFlightSeconds` (real seconds): how long an unanswered grant
    /// counts as in flight; after it, the grant counts as sent then, for the whole window. The
    /// caller (`RateLimiter`) passes its transport timeout in the provider clock, scaled to real seconds.
    public func grant(provider: String, keyFingerprint: String, limits: [(requests: Int, seconds: Double)],
                      inFlightSeconds: Double) throws(PostgresError) -> BudgetGrant {
        let row = try connection.query(PostgresQuery("grant provider request", """
            SELECT request_id::text, wait_seconds FROM barfill.grant_provider_request($1, $2, $3::integer[], $4::double precision[], $5)
            """, [provider, keyFingerprint, limits.map(\.requests), limits.map(\.seconds), inFlightSeconds])).onlyRow()
        if let id = try row.decode("request_id", as: String?.self) { return .granted(id: id) }
        return .wait(seconds: try row.decode("wait_seconds", as: Double?.self) ?? 0)
    }

    /// The answer to grant `id` arrived: the request counts from now.
    public func answered(_ id: String) throws(PostgresError) {
        try connection.query(PostgresQuery("provider request answered", "SELECT barfill.provider_request_answered($1::uuid)", [id]))
    }

    /// Grant `id` was never sent (the connection was refused): it no longer counts.
    public func neverSent(_ id: String) throws(PostgresError) {
        try connection.query(PostgresQuery("provider request never sent", "SELECT barfill.provider_request_never_sent($1::uuid)", [id]))
    }

    /// A 429: no process is granted a request with this key for `seconds` (real) from now.
    public func block(provider: String, keyFingerprint: String, seconds: Double) throws(PostgresError) {
        try connection.query(PostgresQuery("block provider key", "SELECT barfill.block_provider_key($1, $2, $3)", [provider, keyFingerprint, seconds]))
    }
}
