import BarfillCore
import BarfillTestSupport
import Foundation
import Testing
@testable import BarfillHTTP
import BarfillSimulator

/// Which provider errors are retried, which end a fetch for good, and what an unreachable provider costs.
@Suite struct FaultTests {
    static let garbled: [SimulatedProvider.Corruption] = [.malformedJSON, .htmlPage, .emptyBody]

    @Test(arguments: garbled, [ProviderName.massive, .finnhub])
    func aGarbledAnswerIsRetriedAndTheNextGoodOneKept(_ corruption: SimulatedProvider.Corruption, _ name: ProviderName) async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.corrupt(corruption)])
        let provider: any BarProvider = name == .massive ? try loopback.massive() : try loopback.finnhub()
        let result = try await provider.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.requests == 2)
        #expect(result.bars == generated("AAPL", .d1, from: March2024.from, to: March2024.to))
        #expect(result.rejections.isEmpty)
        #expect(loopback.provider.log.map(\.status) == [200, 200])
    }

    @Test(arguments: garbled)
    func anAnswerThatStaysGarbledIsTransientNotPermanent(_ corruption: SimulatedProvider.Corruption) async throws {
        let loopback = try Loopback()
        loopback.provider.inject(Array(repeating: .corrupt(corruption), count: quickRetry.maxAttempts))
        let client = try loopback.massive()
        do {
            _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            Issue.record("a garbled answer was accepted")
        } catch {
            guard case .undecodable(.massive, _) = error else { Issue.record("\(error)"); return }
            #expect(error.fault == .transient)
        }
        #expect(loopback.provider.log.count == quickRetry.maxAttempts)
    }

    @Test func theProvidersClearNoIsPermanent() {
        let permanent: [ProviderError] = [
            .unauthorized(.massive, message: ""), .notEntitled(.finnhub, message: ""),
            .httpStatus(.massive, status: 404, message: "unknown ticker"),
            .wrongTicker(.massive, expected: "A", received: "B"),
            .providerStatus(.massive, status: "ERROR", message: ""),
            .malformedResponse(.finnhub, reason: "the c/h/l/o/t/v arrays differ in length"),
        ]
        #expect(permanent.allSatisfy { $0.fault == .permanent })
        let transient: [ProviderError] = [
            .httpStatus(.massive, status: 503, message: ""), .transport(.massive, .timeout(host: "h")),
            .transport(.finnhub, .truncatedBody(host: "h")), .undecodable(.massive, reason: ""),
        ]
        #expect(transient.allSatisfy { $0.fault == .transient })
        #expect(ProviderError.unreachable(.massive, baseURL: "http://h:1", .connect(host: "h", reason: "")).fault == .unreachable)
        #expect(ProviderError.transport(.massive, .dns(host: "h")).fault == .unreachable)
    }

    @Test func anUnresolvableHostIsTheDNSCaseOfUnreachableAndCountsNoRequest() async throws {
        let secret = "sim-dns-key-0123456789"
        let base = "http://barfill-test.invalid/api/v1"
        let limiter = RateLimiter(provider: .finnhub, key: APIKey(secret)!, limits: [RateLimit(requests: 1_000, per: 1)],
                                  budget: RequestBudget(maxRequests: 10))
        let client = try FinnhubClient(settings: ProviderSettings(provider: .finnhub, baseURL: base, key: APIKey(secret)!),
                                       limiter: limiter, retry: quickRetry)
        do {
            _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            Issue.record("an unresolvable host gave an answer")
        } catch {
            guard case let .unreachable(.finnhub, url, .dns(host: "barfill-test.invalid")) = error else {
                Issue.record("expected the DNS case of unreachable, got \(error)")
                return
            }
            #expect(url == base)
            #expect(error.fault == .unreachable)
            #expect(!error.localizedDescription.contains(secret))
        }
        #expect(await limiter.requestsGranted == 0)
        #expect(await limiter.allowance.spent == 0)
    }

    @Test func aRefusedConnectionNamesTheBaseURLAndCountsNoRequest() async throws {
        // A port that was just free: nothing listens there, so the connection is refused.
        let port = try LoopbackPort.closed()
        let secret = "sim-refused-key-0123456789"
        let base = "http://127.0.0.1:\(port)/api/v1"
        let limiter = RateLimiter(provider: .finnhub, key: APIKey(secret)!, limits: [RateLimit(requests: 1_000, per: 1)],
                                  budget: RequestBudget(maxRequests: 10))
        let client = try FinnhubClient(settings: ProviderSettings(provider: .finnhub, baseURL: base, key: APIKey(secret)!),
                                       limiter: limiter, retry: quickRetry)
        do {
            _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            Issue.record("a refused connection gave an answer")
        } catch {
            guard case let .unreachable(.finnhub, url, _) = error else { Issue.record("\(error)"); return }
            #expect(url == base)
            #expect(error.fault == .unreachable)
            let message = error.localizedDescription
            #expect(message.contains(base))
            #expect(!message.contains(secret))
        }
        // None of the attempts left the machine: none counts against the window or the budget.
        #expect(await limiter.requestsGranted == 0)
        #expect(await limiter.state.recent.isEmpty)
        #expect(await limiter.allowance.spent == 0)
    }

    @Test func limitersSharingAnAllowanceStopAtTheRunsTotal() async throws {
        let allowance = RequestAllowance(maxRequests: 3)
        let massive = RateLimiter(provider: .massive, key: APIKey(goodKey)!, limits: [RateLimit(requests: 1_000, per: 1)],
                                  budget: RequestBudget(maxRequests: 3))
        let finnhub = RateLimiter(provider: .finnhub, key: APIKey(goodKey)!, limits: [RateLimit(requests: 1_000, per: 1)],
                                  budget: RequestBudget(maxRequests: 3))
        await massive.share(allowance)
        await finnhub.share(allowance)
        _ = try await massive.acquire()
        _ = try await finnhub.acquire()
        _ = try await massive.acquire()
        await #expect(throws: StopReason.requestBudgetExhausted) { _ = try await finnhub.acquire() }
        await #expect(throws: StopReason.requestBudgetExhausted) { _ = try await massive.acquire() }
        #expect(allowance.spent == 3)
    }
}
