import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP
import BarfillSimulator

/// Rate limits on a time-scaled clock: a provider "minute" lasts 1.2 s (long enough that a loaded 2-core CI machine does not blur the windows), on both sides of the wire.
@Suite struct RateLimitTests {
    static let minute = RateLimit(requests: 3, per: 60)

    static func scaled(serverLimit: RateLimit, _ configure: (inout SimulatedProvider.Configuration) -> Void = { _ in }) throws -> Loopback {
        try Loopback {
            $0.clock = ProviderClock(timeScale: 0.02)
            $0.keys = [goodKey: .init(massive: [serverLimit], finnhub: [serverLimit])]
            configure(&$0)
        }
    }

    /// No window of `limit.window` seconds holds more than `limit.requests` of the logged requests.
    static func staysWithin(_ limit: RateLimit, _ times: [Double]) -> Bool {
        times.indices.allSatisfy { i in times[i...].prefix { $0 < times[i] + limit.window }.count <= limit.requests }
    }

    @Test func atTheConfiguredRateNo429EverComes() async throws {
        let loopback = try Self.scaled(serverLimit: Self.minute)
        let client = try loopback.massive(limiter: loopback.limiter(.massive, limits: [Self.minute]))
        for _ in 0..<7 {
            let result = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            #expect(result.isComplete && result.bars.count == 5)
        }
        let log = loopback.provider.log
        #expect(log.count == 7 && log.allSatisfy { $0.status == 200 })
        #expect(Self.staysWithin(Self.minute, log.map(\.at)))
    }

    @Test func workersSharingAKeyShareItsLimit() async throws {
        let loopback = try Self.scaled(serverLimit: Self.minute)
        let shared = loopback.limiter(.massive, limits: [Self.minute])
        let workers = try (0..<3).map { _ in try loopback.massive(limiter: shared) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask {
                    for _ in 0..<2 {
                        let result = try await worker.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
                        #expect(result.isComplete)
                    }
                }
            }
            try await group.waitForAll()
        }
        let log = loopback.provider.log
        #expect(log.count == 6 && log.allSatisfy { $0.status == 200 })
        #expect(Self.staysWithin(Self.minute, log.map(\.at).sorted()))
    }

    @Test func aRetryAfterBeyondTheLongestWaitStopsAtOnce() async throws {
        let loopback = try Self.scaled(serverLimit: RateLimit(requests: 1, per: 3_600)) { $0.retryAfter = true }
        let client = try loopback.massive(limiter: loopback.limiter(.massive, limits: [RateLimit(requests: 20, per: 60)]))
        _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        let stopped = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        guard case let .rateLimited(resumeAfter) = stopped.stop else { Issue.record("expected a rate-limit stop"); return }
        #expect(resumeAfter >= loopback.provider.log[0].at + 3_600)
        #expect(loopback.provider.log.map(\.status) == [200, 429])
    }

    @Test func misconfiguredGetsAtMostOne429PerWindowThenStopsResumable() async throws {
        let loopback = try Self.scaled(serverLimit: Self.minute)
        let client = try loopback.massive(limiter: loopback.limiter(.massive, limits: [RateLimit(requests: 20, per: 60)], maxRateLimited: 2))
        var stop: StopReason?
        for _ in 0..<20 where stop == nil {
            stop = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to).stop
        }
        guard case .rateLimited = stop else { Issue.record("expected a resumable rate-limit stop, got \(String(describing: stop))"); return }
        let log = loopback.provider.log
        let limited = log.filter { $0.status == 429 }.map(\.at)
        #expect(limited.count == 2)
        #expect(zip(limited, limited.dropFirst()).allSatisfy { $1 - $0 >= 60 })
        // Without a Retry-After, the client waited out the whole window before trying again.
        if let first = log.firstIndex(where: { $0.status == 429 }), first + 1 < log.count {
            #expect(log[first + 1].at - log[first].at >= 60)
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await Self.expectTheServersHintIsWaitedOut(.massive) { $0.retryAfter = true }
    }

    @Test func finnhubsRateLimitResetIsHonoured() async throws {
        try await Self.expectTheServersHintIsWaitedOut(.finnhub) { $0.rateLimitReset = true }
    }

    /// The server allows 2 requests per 120 s and says when to come back (Retry-After or
    /// X-Ratelimit-Reset); the client, configured for 20 per 60 s, sends a third and gets a 429.
    static func expectTheServersHintIsWaitedOut(
        _ provider: ProviderName, _ configure: (inout SimulatedProvider.Configuration) -> Void
    ) async throws {
        let loopback = try Self.scaled(serverLimit: RateLimit(requests: 2, per: 120), configure)
        let limiter = loopback.limiter(provider, limits: [RateLimit(requests: 20, per: 60)])
        let client: any BarProvider = provider == .massive
            ? try loopback.massive(limiter: limiter) : try loopback.finnhub(limiter: limiter)
        for _ in 0..<3 {
            let result = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            #expect(result.isComplete)
        }
        let log = loopback.provider.log
        try #require(log.map(\.status) == [200, 200, 429, 200])
        // The server's hint pointed past the client's own 60 s window, to when the first request leaves
        // the server's 120 s window: the client waited exactly that out.
        #expect(log[3].at >= log[0].at + 120)
        #expect(log[3].at - log[2].at > 60)
    }

    @Test func aSpentRequestBudgetStopsResumablyWithWhatArrived() async throws {
        let loopback = try Loopback { $0.pageSize = 7 }
        let client = try loopback.massive(limiter: loopback.limiter(.massive, budget: RequestBudget(maxRequests: 3)))
        let result = try await client.fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        #expect(result.stop == .requestBudgetExhausted && !result.isComplete)
        #expect(result.requests == 3 && result.pages == 3 && result.bars.count == 21)
    }

    @Test func aDeadlineStopsBeforeAWaitItCannotFinish() async throws {
        let loopback = try Self.scaled(serverLimit: Self.minute)
        // The next request may go an hour after the first; the deadline is half an hour away (36 s
        // real): the first request is surely made before it, and the wait surely cannot finish.
        let limiter = loopback.limiter(.massive, limits: [RateLimit(requests: 1, per: 3_600)],
                                       budget: RequestBudget(deadline: loopback.clock.now() + 1_800))
        let client = try loopback.massive(limiter: limiter)
        let first = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        let second = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(first.isComplete)
        #expect(second.stop == .deadlineReached && second.requests == 0)
    }

    @Test func savedStateMakesAResumedRunRespectTheOpenWindow() async throws {
        // An hour-long window (3 minutes real): surely still open while the runs below resume.
        let hourly = RateLimit(requests: 3, per: 3_600)
        let loopback = try Self.scaled(serverLimit: hourly) { $0.clock = ProviderClock(timeScale: 0.05) }
        let before = loopback.limiter(.massive, limits: [hourly])
        let client = try loopback.massive(limiter: before)
        for _ in 0..<3 { _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to) }
        let saved = try JSONEncoder().encode(await before.state)
        let state = try JSONDecoder().decode(RateLimiter.State.self, from: saved)
        #expect(state.recent.count == 3 && state.keyFingerprint == APIKey(goodKey)!.fingerprint)
        #expect(!String(decoding: saved, as: UTF8.self).contains(goodKey))

        // Resuming without the saved state runs straight into the open window.
        let forgetful = try await loopback.massive(limiter: loopback.limiter(.massive, limits: [hourly], maxRateLimited: 1))
            .fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        guard case .rateLimited = forgetful.stop else { Issue.record("expected a 429 stop, got \(String(describing: forgetful.stop))"); return }

        let other = loopback.limiter(.massive, key: "another-key", limits: [hourly])
        #expect(await other.restore(state) == false)

        // With the saved state, the resumed limiter knows the next request must wait for the window
        // to close (an hour after the first request): with a 10-minute deadline it sends nothing.
        let resumed = loopback.limiter(.massive, limits: [hourly], budget: RequestBudget(deadline: loopback.clock.now() + 600))
        #expect(await resumed.restore(state))
        let result = try await loopback.massive(limiter: resumed).fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.stop == .deadlineReached && result.requests == 0)
        #expect(loopback.provider.log.map(\.status) == [200, 200, 200, 429])
    }

    /// `work` keeps one limiter for every request, and each request's run restores the state the
    /// previous one saved from it: restoring must not count those requests again.
    @Test func restoringTheLimitersOwnStateAddsNothing() async throws {
        // A deadline 5 s away: a limiter that believes the window is full stops instead of waiting it out.
        let limiter = RateLimiter(provider: .massive, key: APIKey(goodKey)!, limits: [RateLimit(requests: 3, per: 60)],
                                  budget: RequestBudget(deadline: Date().timeIntervalSince1970 + 5))
        for _ in 0..<2 { _ = try await limiter.acquire() }
        let saved = await limiter.state
        for _ in 0..<5 { #expect(await limiter.restore(saved)) }
        #expect(await limiter.state.recent == saved.recent)
        // The third request of the window is still free: it is granted at once.
        _ = try await limiter.acquire()
        #expect(await limiter.state.recent.count == 3)
        // A fresh limiter (a resumed run) takes the saved requests over.
        let resumed = RateLimiter(provider: .massive, key: APIKey(goodKey)!, limits: [RateLimit(requests: 3, per: 60)])
        #expect(await resumed.restore(saved))
        #expect(await resumed.state.recent == saved.recent)
    }

    @Test func limitsParseFromTheCommandLineForm() {
        #expect(RateLimit(parsing: "5/min") == RateLimit(requests: 5, per: 60))
        #expect(RateLimit(parsing: "30/s") == RateLimit(requests: 30, per: 1))
        #expect(RateLimit(parsing: "100/h") == RateLimit(requests: 100, per: 3_600))
        #expect(RateLimit(parsing: "2/10s") == RateLimit(requests: 2, per: 10))
        #expect(RateLimit(parsing: "5/min")?.description == "5/min")
        for bad in ["", "5", "x/min", "0/min", "5/fortnight", "-1/s"] { #expect(RateLimit(parsing: bad) == nil) }
        #expect(RateLimit.defaults(for: .massive) == [RateLimit(requests: 5, per: 60)])
        #expect(RateLimit.defaults(for: .finnhub) == [RateLimit(requests: 60, per: 60), RateLimit(requests: 30, per: 1)])
    }
}
