import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP

@Suite struct FinnhubClientTests {
    @Test func hourlyCandlesArriveInFinnhubsFormat() async throws {
        let loopback = try Loopback()
        let result = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        // Regular hours, clock buckets starting inside the session: 10:00 … 15:00.
        #expect(result.bars.count == 5 * 6)
        #expect(result.bars.first?.ts == NewYork.instant(March2024.monday, hour: 10, minute: 0))
        #expect(result.bars == generated("AAPL", .h1, from: March2024.from, to: March2024.to, extended: false))
        #expect(result.requests == 1 && result.isComplete && result.rejections.isEmpty)
        #expect(loopback.provider.log.first?.path.hasPrefix("/api/v1/stock/candle?symbol=AAPL&resolution=60&") == true)
    }

    @Test func dailyCandlesStampedAtUTCMidnightLandOnTheSameKeysAsMassive() async throws {
        let loopback = try Loopback()
        let finnhub = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        let massive = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(finnhub.bars.map(\.ts) == March2024.sessions.map { NewYork.midnight($0.date) })
        #expect(finnhub.bars == massive.bars)
        #expect(finnhub.rejections.isEmpty)
    }

    @Test func noDataIsNoBars() async throws {
        let loopback = try Loopback()
        let result = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .m5, from: March2024.weekendFrom, to: March2024.weekendTo)
        #expect(result.bars.isEmpty && result.isComplete && result.requests == 1)
    }

    @Test func aFreeKeyIsNotEntitledAndNeverRetried() async throws {
        let loopback = try Loopback()
        await #expect(throws: ProviderError.notEntitled(.finnhub, message: "You don't have access to this resource.")) {
            _ = try await loopback.finnhub(key: freeKey).fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.map(\.status) == [403])
    }

    @Test func anUnknownKeyIsUnauthorized() async throws {
        let loopback = try Loopback()
        await #expect(throws: ProviderError.unauthorized(.finnhub, message: "Invalid API key")) {
            _ = try await loopback.finnhub(key: "wrong").fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
    }

    @Test func fourHourBarsAreRefusedBeforeAnyRequest() async throws {
        let loopback = try Loopback()
        await #expect(throws: ProviderError.unsupportedTimeframe(.finnhub, .h4)) {
            _ = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .h4, from: March2024.from, to: March2024.to)
        }
        #expect(loopback.provider.log.isEmpty)
    }

    @Test func longIntradayWindowsAreSlicedIntoMonths() async throws {
        let loopback = try Loopback()
        let from = NewYork.midnight(LocalDate(year: 2024, month: 1, day: 2)!)
        let to = NewYork.midnight(LocalDate(year: 2024, month: 3, day: 12)!)
        let result = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .m30, from: from, to: to)
        #expect(result.requests == 3 && result.pages == 3)
        #expect(result.bars == generated("AAPL", .m30, from: from, to: to, extended: false))
        #expect(result.rejections.isEmpty)
    }

    @Test func resolutionsMapBothWays() {
        for timeframe in Timeframe.allCases where timeframe != .h4 {
            #expect(FinnhubClient.timeframe(resolution: FinnhubClient.resolution(of: timeframe)!) == timeframe)
        }
        #expect(FinnhubClient.resolution(of: .h4) == nil)
        #expect(FinnhubClient.timeframe(resolution: "240") == nil)
    }
}
