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
}
