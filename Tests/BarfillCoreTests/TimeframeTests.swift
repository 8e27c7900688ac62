import Testing
@testable import BarfillCore

@Suite struct TimeframeTests {
    @Test func intradayStepsAreMultiplesOfAMinute() {
        for tf in Timeframe.allCases {
            if let step = tf.intradaySeconds { #expect(step % 60 == 0) }
        }
        #expect(Timeframe.d1.intradaySeconds == nil)
    }
}
