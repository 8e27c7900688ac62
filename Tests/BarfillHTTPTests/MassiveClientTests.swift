import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP

@Suite struct MassiveClientTests {
    @Test func hourlyBarsIncludeExtendedHoursAsMassiveReturnsThem() async throws {
        let loopback = try Loopback()
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        // 04:00 … 19:00 New York: 16 hourly bars in each of the five sessions.
        #expect(result.bars.count == 5 * 16)
        #expect(result.bars.first?.ts == NewYork.instant(March2024.monday, hour: 4, minute: 0))
        #expect(result.bars.last?.ts == NewYork.instant(March2024.saturday.adding(days: -1), hour: 19, minute: 0))
        #expect(result.bars == generated("AAPL", .h1, from: March2024.from, to: March2024.to))
        #expect(result.rejections.isEmpty && result.isComplete)
        #expect(result.requests == 1 && result.pages == 1)
    }

    @Test func dailyBarsAreKeyedAtMidnightNewYork() async throws {
        let loopback = try Loopback()
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.bars.map(\.ts) == March2024.sessions.map { NewYork.midnight($0.date) })
    }

    @Test func followsNextURLAndCountsEveryPage() async throws {
        let loopback = try Loopback { $0.pageSize = 7 }
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        #expect(result.bars == generated("AAPL", .h1, from: March2024.from, to: March2024.to))
        #expect(result.pages == 12 && result.requests == 12)   // 80 bars, 7 a page
        #expect(loopback.provider.log.count == 12)
        #expect(loopback.provider.log.allSatisfy { $0.keyFingerprint == APIKey(goodKey)!.fingerprint && $0.status == 200 })
    }

    @Test func aNextURLOnAnotherHostIsNeverFollowed() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.foreignNextURL])
        await #expect(throws: ProviderError.untrustedNextURL(.massive, host: "elsewhere.invalid")) {
            _ = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.count == 1)
    }

    @Test func aWindowWithoutSessionsIsNoBarsNotAnError() async throws {
        let loopback = try Loopback()
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .h1, from: March2024.weekendFrom, to: March2024.weekendTo)
        #expect(result.bars.isEmpty && result.rejections.isEmpty && result.isComplete && result.requests == 1)
    }

    @Test func anIlliquidTickerHasHolesThatStayHoles() async throws {
        let loopback = try Loopback { $0.illiquidTickers = ["QUIET"] }
        let client = try loopback.massive()
        let first = try await client.fetch(ticker: Ticker("QUIET")!, timeframe: .m15, from: March2024.from, to: March2024.to)
        let again = try await client.fetch(ticker: Ticker("QUIET")!, timeframe: .m15, from: March2024.from, to: March2024.to)
        let liquid = try await client.fetch(ticker: aapl, timeframe: .m15, from: March2024.from, to: March2024.to)
        #expect(liquid.bars.count == 5 * 64)   // 04:00 … 19:45
        #expect(first.bars.count > 0 && first.bars.count < liquid.bars.count * 3 / 4)
        #expect(first.bars == again.bars)
    }

    @Test func tickersWithPunctuationTravelPercentSafeInThePath() async throws {
        let loopback = try Loopback()
        let result = try await loopback.massive().fetch(ticker: Ticker("BRK.B")!, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.bars.count == 5)
        #expect(loopback.provider.log.first?.path.hasPrefix("/v2/aggs/ticker/BRK.B/range/1/day/") == true)
    }

    @Test func anUnknownKeyIsUnauthorizedAndNotRetried() async throws {
        let loopback = try Loopback()
        await #expect(throws: ProviderError.unauthorized(.massive, message: "Unknown API Key")) {
            _ = try await loopback.massive(key: "not-a-known-key").fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.map(\.status) == [401])
    }

    @Test func timeframesMapBothWays() {
        for timeframe in Timeframe.allCases {
            let (multiplier, timespan) = MassiveClient.range(of: timeframe)
            #expect(MassiveClient.timeframe(multiplier: multiplier, timespan: timespan) == timeframe)
        }
        #expect(MassiveClient.range(of: .h4) == (4, "hour"))
        #expect(MassiveClient.timeframe(multiplier: 2, timespan: "hour") == nil)
    }

    @Test func keysComeFromTheEnvironmentWithThePolygonFallback() throws {
        let polygon = try ProviderSettings.fromEnvironment(.massive, ["POLYGON_API_KEY": "p-key"])
        #expect(polygon.key == APIKey("p-key") && polygon.baseURL == "https://api.massive.com")
        let both = try ProviderSettings.fromEnvironment(.massive, ["POLYGON_API_KEY": "p-key", "MASSIVE_API_KEY": "m-key",
                                                                   "MASSIVE_BASE_URL": "http://127.0.0.1:9/"])
        #expect(both.key == APIKey("m-key") && both.baseURL == "http://127.0.0.1:9")
        let finnhub = try ProviderSettings.fromEnvironment(.finnhub, ["FINNHUB_API_KEY": "f-key"])
        #expect(finnhub.baseURL == "https://finnhub.io/api/v1")
        #expect(throws: ProviderError.missingKey(.finnhub, variables: ["FINNHUB_API_KEY"])) {
            _ = try ProviderSettings.fromEnvironment(.finnhub, ["MASSIVE_API_KEY": "m-key"])
        }
        #expect(throws: ProviderError.self) {
            _ = try ProviderSettings.fromEnvironment(.massive, ["MASSIVE_API_KEY": "k", "MASSIVE_BASE_URL": "ftp://x"])
        }
    }
}
