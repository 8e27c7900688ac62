import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP
import BarfillSimulator

@Suite struct ValidationTests {
    static let rejected: [(SimulatedProvider.Corruption, RejectionReason)] = [
        (.duplicateTimestamp, .duplicateTimestamp), (.outsideWindow, .outsideWindow), (.lowAboveBody, .lowAboveBody),
        (.highBelowBody, .highBelowBody), (.negativeVolume, .negativeVolume), (.nullValue, .missingValue),
    ]

    @Test(arguments: rejected, [ProviderName.massive, .finnhub])
    func aBadBarIsCountedAndLeftOut(_ corruption: (SimulatedProvider.Corruption, RejectionReason), _ name: ProviderName) async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.corrupt(corruption.0)])
        let provider: any BarProvider = name == .massive ? try loopback.massive() : try loopback.finnhub()
        let result = try await provider.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.rejectionCounts == [corruption.1: 1])
        let clean = generated("AAPL", .d1, from: March2024.from, to: March2024.to)
        // A duplicate or an extra bar outside the window leaves all five good bars; a spoiled bar is dropped.
        let expected = [.duplicateTimestamp, .outsideWindow].contains(corruption.1) ? clean : Array(clean.dropFirst())
        #expect(result.bars == expected)
    }

    @Test(arguments: [ProviderName.massive, .finnhub])
    func truncatedJSONIsAnErrorOnceTheRetriesAreSpent(_ name: ProviderName) async throws {
        let loopback = try Loopback()
        loopback.provider.inject(Array(repeating: .corrupt(.malformedJSON), count: quickRetry.maxAttempts))
        let provider: any BarProvider = name == .massive ? try loopback.massive() : try loopback.finnhub()
        do {
            _ = try await provider.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            Issue.record("a body cut in half was accepted")
        } catch {
            guard case .undecodable(name, _) = error else { Issue.record("\(error)"); return }
            #expect(error.fault == .transient)
        }
    }

    @Test func anOverflowingNumberIsANonFiniteRejectionAtMassive() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.corrupt(.nonFiniteNumber)])
        let result = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        #expect(result.rejectionCounts == [.nonFiniteNumber: 1] && result.bars.count == 4)
    }

    @Test func anOverflowingNumberMakesFinnhubsAnswerInvalid() async throws {
        // Finnhub's parallel arrays go through JSONDecoder, which refuses 1e999 outright.
        // JSONDecoder cannot tell it from a garbled body, so it is retried like one.
        let loopback = try Loopback()
        loopback.provider.inject(Array(repeating: .corrupt(.nonFiniteNumber), count: quickRetry.maxAttempts))
        let client = try loopback.finnhub()
        do {
            _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
            Issue.record("1e999 was accepted")
        } catch {
            guard case .undecodable(.finnhub, _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func anAnswerForAnotherTickerIsRefused() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.corrupt(.wrongTicker)])
        await #expect(throws: ProviderError.wrongTicker(.massive, expected: "AAPL", received: "AAPLX")) {
            _ = try await loopback.massive().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
    }

    @Test func finnhubArraysOfDifferentLengthsAreAnError() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.corrupt(.mismatchedArrays)])
        await #expect(throws: ProviderError.malformedResponse(.finnhub, reason: "the c/h/l/o/t/v arrays differ in length")) {
            _ = try await loopback.finnhub().fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)
        }
    }

    @Test func nonFiniteValuesAreRejectedEvenWhenTheyDecode() {
        var validator = BarValidator(from: 0, to: 1_000)
        validator.check(ts: 10, open: .nan, high: 2, low: 1, close: 1.5, volume: 1)
        validator.check(ts: 20, open: 1, high: .infinity, low: 1, close: 1.5, volume: 1)
        validator.check(ts: 30, open: 1, high: 2, low: 1, close: 1.5, volume: 1)
        #expect(validator.rejections == [Rejection(ts: 10, reason: .nonFiniteNumber), Rejection(ts: 20, reason: .nonFiniteNumber)])
        #expect(validator.bars.map(\.ts) == [30])
    }

    @Test func simulatedPricesKeepTheOHLCInvariant() {
        let bars = generated("MSFT", .m1, from: March2024.from, to: March2024.to)
        #expect(bars.count == 5 * 16 * 60)
        #expect(bars.allSatisfy { $0.low <= min($0.open, $0.close) && $0.high >= max($0.open, $0.close) && $0.volume >= 0 && $0.low > 0 })
    }
}
