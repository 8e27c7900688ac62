import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

/// A grant whose answer never comes back (its process died mid-request) is held as in flight for
/// the transport timeout in the provider clock's units, then counts as sent for the key's window.
@Suite(.serialized, .requiresPostgres)
struct BudgetHoldTests {
    /// A provider minute lasts 0.6 s, as with `--time-scale 0.01`.
    static let clock = ProviderClock(timeScale: 0.01, anchor: ProviderClock.scaledEpoch)

    static func hold(_ db: TestDatabase) throws -> [Double] {
        let rows = try db.connection.query("""
            SELECT extract(epoch FROM counted_at - granted_at)::double precision FROM barfill.provider_requests
            """)
        return try (0..<rows.rowCount).map { try rows.double($0, 0) ?? -1 }
    }

    @Test func aGrantNeverAnsweredIsHeldForTheTransportTimeoutOfTheScaledClock() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let limiter = RateLimiter(provider: .massive, key: ApplyFixture.key, limits: [RateLimit(requests: 5, per: 60)],
                                  clock: Self.clock)
        await limiter.share(PostgresProviderBudget(databaseURL: db.url))
        // The process dies after the grant: `finish` is never called.
        _ = try await limiter.acquire()
        let held = try Self.hold(db)
        #expect(held.count == 1)
        // 120 provider seconds at 0.01 real seconds each (before: 120 real seconds, 200 scaled minutes).
        #expect(held.allSatisfy { abs($0 - HTTPTimeouts.default.total * 0.01) < 0.001 }, "held \(held) s")
    }

    @Test func anUnscaledClockHoldsTheWholeTransportTimeout() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let limiter = RateLimiter(provider: .massive, key: ApplyFixture.key, limits: [RateLimit(requests: 5, per: 60)])
        await limiter.share(PostgresProviderBudget(databaseURL: db.url), inFlightSeconds: 30)
        _ = try await limiter.acquire()
        #expect(try Self.hold(db).map { ($0 * 1000).rounded() } == [30_000])
    }

    @Test func afterTheHoldTheDeadGrantStillCountsForTheKeysWindow() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let limits = [RateLimit(requests: 1, per: 60)]
        let dead = RateLimiter(provider: .massive, key: ApplyFixture.key, limits: limits, clock: Self.clock)
        await dead.share(PostgresProviderBudget(databaseURL: db.url))
        _ = try await dead.acquire()
        // The hold (1.2 s) ended 0.1 s ago: the grant now counts as sent then, inside the 0.6 s window.
        try db.connection.query("""
            UPDATE barfill.provider_requests
            SET granted_at = clock_timestamp() - interval '1.3 seconds', counted_at = clock_timestamp() - interval '0.1 seconds'
            """)
        let store = ProviderBudgetStore(connection: try db.connect())
        let fingerprint = ApplyFixture.key.fingerprint
        guard case let .wait(seconds) = try store.grant(provider: "massive", keyFingerprint: fingerprint, limits: [(1, 0.6)],
                                                        inFlightSeconds: 1.2) else {
            Issue.record("a second process was granted a request inside the dead grant's window")
            return
        }
        #expect(seconds > 0 && seconds <= 0.5)
        // Once the window after the hold has passed, the key is free again.
        try db.connection.query("""
            UPDATE barfill.provider_requests SET counted_at = clock_timestamp() - interval '0.7 seconds'
            WHERE answered_at IS NULL AND counted_at < clock_timestamp() - interval '0.05 seconds'
            """)
        if case .wait = try store.grant(provider: "massive", keyFingerprint: fingerprint, limits: [(1, 0.6)], inFlightSeconds: 1.2) {
            Issue.record("the dead grant still blocks the key after its window")
        }
    }
}
