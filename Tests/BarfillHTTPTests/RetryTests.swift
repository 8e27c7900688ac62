import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP

@Suite struct RetryTests {
    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.status(503), .status(502)])
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.bars.count == 5 && result.requests == 3)
        #expect(loopback.provider.log.map(\.status) == [503, 502, 200])
    }

    @Test func serverErrorsGiveUpAtTheCap() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.status(500), .status(500), .status(500), .status(500)])
        await #expect(throws: ProviderError.httpStatus(.massive, status: 500, message: "Internal server error")) {
            _ = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.count == quickRetry.maxAttempts)
    }

    @Test func aTruncatedBodyIsRetried() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.truncate])
        let result = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        #expect(result.bars.count == 30 && result.requests == 2)
    }

    @Test func aTimeoutIsRetried() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.slow(2)])
        let client = try loopback.massive(http: HTTPClient(timeouts: HTTPTimeouts(connect: 1, total: 0.3)))
        let result = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.bars.count == 5 && result.requests == 2)
    }

    @Test func otherClientErrorsAreNotRetried() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.status(404)])
        await #expect(throws: ProviderError.self) {
            _ = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.count == 1)
    }

    @Test func backoffIsFullJitterUnderAnExponentialCap() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: 1, maxDelay: 5)
        for attempt in 1...6 {
            let ceiling = min(5, pow(2, Double(attempt - 1)))
            let delays = (0..<200).map { _ in policy.delay(after: attempt) }
            #expect(delays.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(Set(delays).count > 100)   // random, not a fixed schedule
            // Full jitter spreads over the whole [0, cap]: the largest of 200 draws is near the cap
            // (below 0.8 of it with probability 0.8^200), and the mean is half of it. So the cap
            // itself grows 1, 2, 4, 5, 5, 5 with the attempt: a constant or capped-early jitter fails.
            #expect(delays.max()! > 0.8 * ceiling, "attempt \(attempt): no delay near the cap \(ceiling)")
            let mean = delays.reduce(0, +) / Double(delays.count)
            #expect(mean > 0.35 * ceiling && mean < 0.65 * ceiling, "attempt \(attempt): mean \(mean) for a cap of \(ceiling)")
        }
    }
}
