import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP
@testable import BarfillSimulator

@Suite struct SimulatedProviderTests {
    @Test func byDefaultAnyKeyIsWelcomeButNoKeyIsNot() async throws {
        let provider = try SimulatedProvider()
        let url = provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08"
        let client = try HTTPClient()
        #expect(try await client.get(url, headers: [("Authorization", "Bearer whatever")]).status == 200)
        let refused = try await client.get(url)
        #expect(refused.status == 401)
        #expect(String(decoding: refused.body, as: UTF8.self).contains(#""error":"API Key was not provided""#))
    }

    @Test func aRateLimitedKeyGetsTheRealMassive429Body() async throws {
        let provider = try SimulatedProvider(configuration: .init(defaultPolicy: .init(massive: [RateLimit(requests: 1, per: 60)])))
        let url = provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08"
        let client = try HTTPClient()
        _ = try await client.get(url, headers: [("Authorization", "Bearer k")])
        let limited = try await client.get(url, headers: [("Authorization", "Bearer k")])
        #expect(limited.status == 429 && limited.headers["Retry-After"] == nil)
        let body = try JSONSerialization.jsonObject(with: limited.body) as? [String: Any]
        #expect(body?["status"] as? String == "ERROR")
        #expect((body?["error"] as? String)?.hasPrefix("You've exceeded the maximum requests per minute") == true)
        // Another key has its own allowance.
        #expect(try await client.get(url, headers: [("Authorization", "Bearer other")]).status == 200)
    }

    @Test func randomFaultsComeAtTheirRatesAndRepeatWithTheSeed() {
        let faults = SimulatedProvider.RandomFaults(seed: 42, serverError: 0.05, garbled: 0.03, cut: 0.03, slow: 0.02, slowSeconds: 2)
        let drawn = (1...20_000).map { faults.fault(forRequest: $0) }
        func share(_ matches: (SimulatedProvider.Fault) -> Bool) -> Double {
            Double(drawn.filter { $0.map(matches) ?? false }.count) / Double(drawn.count)
        }
        let serverErrors = share { if case let .status(code) = $0 { return code >= 500 }; return false }
        #expect(abs(serverErrors - 0.05) < 0.006)
        #expect(abs(share { $0 == .corrupt(.malformedJSON) } - 0.03) < 0.005)
        #expect(abs(share { $0 == .truncate } - 0.03) < 0.005)
        #expect(abs(share { $0 == .slow(2) } - 0.02) < 0.004)
        #expect(Set(drawn.compactMap { if case let .status(code) = $0 { code } else { nil } }) == [500, 502, 503])
        #expect((1...20_000).map { faults.fault(forRequest: $0) } == drawn)
        var reseeded = faults
        reseeded.seed = 43
        #expect((1...20_000).map { reseeded.fault(forRequest: $0) } != drawn)
    }

    @Test func aGarbledAnswerIsHalfABodyWithAMatchingLength() async throws {
        let provider = try SimulatedProvider(configuration: .init(randomFaults: .init(garbled: 1)))
        let url = provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08"
        let whole = SimulatedProvider.massiveBody(ticker: "AAPL", raws: SimulatedBars.bars(
            ticker: "AAPL", timeframe: .d1, from: NewYork.midnight(LocalDate(iso: "2024-03-04")!),
            through: NewYork.midnight(LocalDate(iso: "2024-03-09")!) - 1, extendedHours: true, illiquid: false),
            requestID: String(repeating: "0", count: 32))   // the same length as the real request id
        let answer = try await HTTPClient().get(url, headers: [("Authorization", "Bearer k")])
        #expect(answer.status == 200)
        #expect(answer.headers["Content-Length"] == String(answer.body.count))
        #expect(answer.body.count == whole.count / 2)
        #expect((try? JSONSerialization.jsonObject(with: answer.body)) == nil)
    }
}
