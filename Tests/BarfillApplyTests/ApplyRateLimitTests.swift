import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing

/// The simulated provider allows 5 requests per minute, on a clock where a minute lasts 0.6 s.
@Suite(.serialized, .requiresPostgres)
struct ApplyRateLimitTests {
    static let clock = ProviderClock(timeScale: 0.01)
    static let freeTier = [RateLimit(requests: 5, per: 60)]
    /// Twelve one-slot holes, one chunk (one request) each.
    static let holes: [Range<Int>] = (0..<12).map { ($0 * 5)..<($0 * 5 + 1) }

    static func fixture() throws -> ApplyFixture {
        try ApplyFixture(simulator: SimulatedProvider.Configuration(
            defaultPolicy: SimulatedProvider.KeyPolicy(massive: freeTier), clock: clock))
    }

    @Test func configuredRightTheRunGetsNoRateLimitAnswerAtAll() async throws {
        let fixture = try Self.fixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        let report = try await fixture.apply(plan, limits: Self.freeTier)
        #expect(report.outcome == .complete)
        #expect(fixture.requests(status: 429).isEmpty)
        #expect(fixture.requests().count == 12)
        #expect(try fixture.rowCounts(id, .h1).rows == ApplyFixture.ordinals(.h1).count)
    }

    @Test func theProvidersRateLimitStopsTheRunAndTheNextRunRespectsTheWindowItSaved() async throws {
        let fixture = try Self.fixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        // Paced too fast, and told to stop at the first 429.
        let first = try await fixture.apply(plan, limits: [RateLimit(requests: 50, per: 60)], maxRateLimited: 1)
        guard case let .stopped(.rateLimited(provider, _)) = first.outcome else {
            Issue.record("expected a stop by the rate limit, got \(first.outcome)")
            return
        }
        #expect(provider == .massive)
        #expect(fixture.requests(status: 429).count == 1)
        let saved = try CheckpointStore(path: fixture.checkpointPath, exclusive: false).rateLimitState(provider: "massive")
        let state = try JSONDecoder().decode(RateLimiter.State.self, from: try #require(saved))
        #expect(state.blockedUntil != nil)
        #expect(state.keyFingerprint == ApplyFixture.key.fingerprint)

        // Resumed right away, configured right: it waits out the saved window instead of meeting another 429.
        let second = try await fixture.apply(plan, limits: Self.freeTier)
        #expect(second.outcome == .complete)
        #expect(fixture.requests(status: 429).count == 1)
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    @Test func misconfiguredItGetsAtMostOne429PerWindowStopsAt75AndTheResumedRunCompletes() async throws {
        let fixture = try Self.fixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        let tooFast = [RateLimit(requests: 20, per: 60)]

        let first = try await fixture.apply(plan, options: ApplyOptions(maxRequests: 8), limits: tooFast)
        guard case .stopped = first.outcome else {
            Issue.record("expected a resumable stop, got \(first.outcome)")
            return
        }
        #expect(first.chunks.contains { $0.status == .done })
        #expect(fixture.requests().count <= 8)

        let second = try await fixture.apply(plan, limits: tooFast)
        #expect(second.outcome == .complete)
        #expect(second.alreadyFinished + second.chunks.filter { $0.status.isFinished }.count == 12)

        let limited = fixture.requests(status: 429).map(\.at).sorted()
        #expect(!limited.isEmpty)
        for (earlier, later) in zip(limited, limited.dropFirst()) {
            #expect(later - earlier >= 59, "two 429s within one window: \(earlier) and \(later)")
        }
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }
}
