import BarfillCore
import Testing

/// The arithmetic both the rate limiter and the simulated provider count by.
struct SlidingWindowTests {
    @Test func aRequestFitsWhileTheWindowHoldsFewerThanTheLimit() {
        #expect(SlidingWindow.earliestStart(counted: [], limits: [(5, 60)], now: 100) == 100)
        #expect(SlidingWindow.earliestStart(counted: [50, 60, 70, 80], limits: [(5, 60)], now: 100) == 100)
    }

    @Test func aFullWindowWaitsForItsOldestCountedRequestToLeave() {
        // Five in the last minute, in any order: the sixth may start when the one at 50 is 60 s old.
        #expect(SlidingWindow.earliestStart(counted: [90, 50, 70, 60, 80], limits: [(5, 60)], now: 100) == 110)
        // One exactly a window old no longer counts.
        #expect(SlidingWindow.earliestStart(counted: [40, 50, 60, 70, 80], limits: [(5, 60)], now: 100) == 100)
        #expect(SlidingWindow.earliestStart(counted: [45, 50, 60, 70, 80], limits: [(5, 60)], now: 100) == 105)
    }

    @Test func theTightestOfSeveralLimitsDecides() {
        // Finnhub's 60/min and 30/s: thirty in the last second wait for the second to pass.
        let lastSecond = (0..<30).map { 99.0 + Double($0) / 100 }
        #expect(SlidingWindow.earliestStart(counted: lastSecond, limits: [(60, 60), (30, 1)], now: 99.5) == 100)
        let lastMinute = (0..<60).map { 40.0 + Double($0) }
        #expect(SlidingWindow.earliestStart(counted: lastMinute, limits: [(60, 60), (30, 1)], now: 99.5) == 100)
    }
}
