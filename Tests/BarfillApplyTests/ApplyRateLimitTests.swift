import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// The simulated provider allows 5 requests per minute, on a clock where a minute lasts 0.6 s.
@Suite(.serialized, .requiresPostgres)
struct ApplyRateLimitTests {
    static let clock = ProviderClock(timeScale: 0.01)
    static let freeTier = [RateLimit(requests: 5, per: 60)]
    /// Twelve one-slot holes, one chunk (one request) each.
    static let holes: [Range<Int>] = (0..<12).map { ($0 * 5)..<($0 * 5 + 1) }

    static func fixture(clock: ProviderClock = clock) throws -> ApplyFixture {
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
        // A minute lasts 1.8 s here, so run 2 surely starts while the saved window is still open.
        let fixture = try Self.fixture(clock: ProviderClock(timeScale: 0.03))
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
        let blockedUntil = try #require(state.blockedUntil)
        let firstRun = fixture.requests().count
        let resumedAt = fixture.clock.now()
        try #require(resumedAt < blockedUntil, "run 2 starts after the saved window closed: it would prove nothing")
        let second = try await fixture.apply(plan, limits: Self.freeTier)
        #expect(second.outcome == .complete)
        #expect(fixture.requests(status: 429).count == 1)
        let secondRun = fixture.requests().dropFirst(firstRun)
        let firstRequest = try #require(secondRun.first)
        #expect(firstRequest.at >= blockedUntil, "run 2 sent at \(firstRequest.at), before the saved window ended at \(blockedUntil)")
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    @Test func misconfiguredItGetsAtMostOne429PerWindowStopsAt75AndTheResumedRunCompletes() async throws {
        let fixture = try Self.fixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        let tooFast = [RateLimit(requests: 20, per: 60)]

        // Paced at 20/min against 5/min: two 429s (a window apart) and the run stops on the second.
        let first = try await fixture.apply(plan, limits: tooFast, maxRateLimited: 2)
        guard case .stopped(.rateLimited(.massive, _)) = first.outcome else {
            Issue.record("expected a stop by the rate limit, got \(first.outcome)")
            return
        }
        #expect(first.chunks.contains { $0.status == .done })
        #expect(fixture.requests(status: 429).count == 2)

        let second = try await fixture.apply(plan, limits: tooFast)
        #expect(second.outcome == .complete)
        #expect(second.alreadyFinished + second.chunks.filter { $0.status.isFinished }.count == 12)

        let limited = fixture.requests(status: 429).map(\.at).sorted()
        for (earlier, later) in zip(limited, limited.dropFirst()) {
            #expect(later - earlier >= 59, "two 429s within one window: \(earlier) and \(later)")
        }
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    /// Through the binary: a 429 whose Retry-After is an hour away stops the run at once, exit 75,
    /// and says when to resume.
    @Test func aRateLimitStopExits75ThroughTheBinary() async throws {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            defaultPolicy: SimulatedProvider.KeyPolicy(massive: [RateLimit(requests: 1, per: 3_600)]), retryAfter: true))
        _ = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let planPath = try fixture.write(fixture.plan([("AAPL", .h1, Self.holes)]))
        let binary = try fixture.binary()
        let run = try await binary.run(["apply", planPath, "--checkpoint", fixture.checkpointPath, "--rate", "massive=6000/min"],
                                       directory: fixture.directory)
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stderr.contains("rate limit"), "\(run.stderr)")
        #expect(fixture.requests().map(\.status) == [200, 429])
    }
}
