import Testing
@testable import BarfillCore

@Suite struct PlanSummaryTests {
    /// A plan with one d1 chunk per symbol, symbol n missing n bars.
    static func manySeries(_ count: Int) -> Plan {
        let base = PlanFixture.plan()
        var series: [Plan.Series] = []
        var chunks: [Plan.Chunk] = []
        let firstDay = LocalDate(year: 2024, month: 1, day: 1)!
        for n in 1...count {
            let symbol = Ticker("S\(n)")!
            series.append(Plan.Series(symbol: symbol, timeframe: .d1, provider: .massive, from: base.window.from,
                                      until: base.window.until, expected: 40, present: 40 - n, offGrid: 0,
                                      fingerprint: SHA256.hex(symbol.value)))
            let from = firstDay.utcMidnight
            chunks.append(Plan.Chunk(symbol: symbol, timeframe: .d1, provider: .massive, from: from, to: from + Int64(n) * 86_400,
                                     requests: 1, gaps: [Plan.ChunkGap(from: from, to: from + Int64(n) * 86_400, bars: n, kind: .interior)]))
        }
        return Plan(createdAt: base.createdAt, calendar: base.calendar, window: base.window, source: base.source,
                    series: series, chunks: chunks)
    }

    @Test func textNamesTheTotalsAndTheWorstSeries() {
        let text = PlanFixture.plan().textSummary()
        #expect(text.contains("4 missing bars in 3 gaps over 2 of 3 series"))
        #expect(text.contains("massive 1 at 5/min, finnhub 1 at 60/min; estimated 13s"))
        #expect(text.contains("off-grid bars (reported, not gaps): 5"))
        let lines = text.split(separator: "\n")
        let aapl = lines.firstIndex { $0.contains("AAPL h1 (massive): 3 bars, 2 gaps, 1 request") }
        let msft = lines.firstIndex { $0.contains("MSFT d1 (finnhub): 1 bar, 1 gap, 1 request") }
        #expect(aapl != nil && msft != nil && aapl! < msft!)
    }

    @Test func textCapsTheSeriesList() {
        let text = Self.manySeries(8).textSummary(topSeries: 3)
        #expect(text.contains("S8 d1 (massive): 8 bars"))
        #expect(text.contains("S6 d1"))
        #expect(!text.contains("S5 d1"))
        #expect(text.contains("and 5 more series"))
    }

    @Test func textOfAnEmptyPlan() {
        let base = PlanFixture.plan()
        let empty = Plan(createdAt: base.createdAt, calendar: base.calendar, window: base.window, source: base.source,
                         series: base.series, chunks: [])
        #expect(empty.textSummary().hasPrefix("no missing bars in 3 series"))
        #expect(empty.markdownSummary().contains("No missing bars."))
    }

    @Test func markdownHasTheSummaryKindsAndACappedSeriesTable() {
        let markdown = Self.manySeries(30).markdownSummary(maxSeries: 10)
        #expect(markdown.contains("| missing bars | 465 |"))
        #expect(markdown.contains("| requests | massive 30 |"))
        #expect(markdown.contains("| estimated duration | 6m 00s |"))
        #expect(markdown.contains("| interior | 30 | 465 |"))
        #expect(!markdown.contains("| tail |"))
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| S") }
        #expect(rows.count == 10)
        #expect(rows.first?.hasPrefix("| S30 | d1 | massive | 30 | 1 | 1 |") == true)
        #expect(markdown.contains("and 20 more series."))
    }

    @Test(arguments: [(0, "0s"), (59, "59s"), (60, "1m 00s"), (3_599, "59m 59s"), (3_600, "1h 00m"), (90_061, "1d 01h")])
    func durations(seconds: Int, text: String) {
        #expect(Plan.duration(seconds) == text)
    }

    @Test func estimatesAtTheRateLimits() {
        let limits = ProviderLimits.default
        #expect(limits.seconds(for: [.massive: 5]) == 60)
        #expect(limits.seconds(for: [.massive: 6]) == 72)
        #expect(limits.seconds(for: [.finnhub: 61]) == 61)
        #expect(limits.seconds(for: [.massive: 10, .finnhub: 120]) == 240)
        #expect(limits.seconds(for: [:]) == 0)
    }
}
