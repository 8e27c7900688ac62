import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Testing

/// How a scan records verified points: series that have a `backfill_status` row and series that
/// do not yet, in one scan.
@Suite(.serialized) struct GapScanRecordTests {
    @Test func oneScanUpdatesKnownSeriesAndInsertsNewOnes() throws {
        let grid = Grid(timeframe: .h1)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL"), msft = try db.insertSymbol("MSFT")
        let novemberEnd = NewYork.midnight(day(2024, 12, 2))
        let december3 = NewYork.midnight(day(2024, 12, 4))
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: novemberEnd), symbolId: aapl, timeframe: .h1)
        let scanner = GapScanner(connection: db.connection)
        let store = try BarStore(connection: db.connection)
        func request(until: Int64) -> ScanRequest {
            ScanRequest(symbols: ["AAPL", "MSFT"], timeframes: [.h1], from: FallWindow.from, until: until, full: false)
        }

        // AAPL gets its row; MSFT has no bar yet: its whole window is one gap, verified up to its first slot.
        let first = try scanner.scan(request(until: novemberEnd))
        #expect(first.recorded == 2)
        let before = try store.statuses(symbolIds: [aapl, msft])
        #expect(before[SeriesKey(symbol: "AAPL", timeframe: .h1)]?.verifiedThrough == novemberEnd)
        let firstSlot = grid.slot(at: grid.ordinals(from: FallWindow.from, until: novemberEnd).lowerBound).start
        #expect(before[SeriesKey(symbol: "MSFT", timeframe: .h1)]?.verifiedThrough == firstSlot)

        // A new symbol, and a day more for everyone: AAPL's row is updated (incrementally), MSFT's
        // too, NVDA's inserted, all in the one scan.
        let nvda = try db.insertSymbol("NVDA")
        for id in [aapl, msft, nvda] {
            try db.insertBars(GridFixture.everySlot(of: grid, from: id == aapl ? novemberEnd : FallWindow.from, until: december3),
                              symbolId: id, timeframe: .h1)
        }
        let second = try scanner.scan(ScanRequest(symbols: ["AAPL", "MSFT", "NVDA"], timeframes: [.h1], from: FallWindow.from,
                                                  until: december3, full: false))
        #expect(second.recorded == 3)
        #expect(second.series.allSatisfy { $0.gaps.isEmpty })
        #expect(second.series.first { $0.ticker == "AAPL" }!.from > FallWindow.from, "AAPL was scanned incrementally")
        let after = try store.statuses(symbolIds: [aapl, msft, nvda])
        for ticker in ["AAPL", "MSFT", "NVDA"] {
            let status = after[SeriesKey(symbol: ticker, timeframe: .h1)]
            #expect(status?.verifiedThrough == december3, "\(ticker)")
            #expect(status?.verifiedFrom == FallWindow.from, "\(ticker)")
            #expect(status?.lastResult == "scanned: 0 gaps, 0 missing bars", "\(ticker)")
        }
        let rows = try db.connection.query("SELECT count(*) FROM barfill.backfill_status").scalar(as: Int.self)
        #expect(rows == 3)
    }
}
