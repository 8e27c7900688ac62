import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

/// The flow of a scan around hostile rows and failures: bad tickers are skipped, and progress is
/// recorded only when the caller says the plan is written.
@Suite(.serialized, .requiresPostgres)
struct GapScanFlowTests {
    static let hostileTickers = ["'; DROP TABLE ohlc_bars; --", "EVIL\u{1B}[2J\u{07}", String(repeating: "W", count: 500)]

    /// Every series with bars, as `barfill gaps` scans by default.
    private func universe() -> ScanRequest {
        ScanRequest(universe: .all, timeframes: nil, from: FallWindow.from, until: FallWindow.until, full: true)
    }

    private func seededWithHostileRows() throws -> (TestDatabase, aapl: String, grid: Grid) {
        let grid = Grid(timeframe: .h1)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL")
        let hole = grid.firstOrdinal(atOrAfter: NewYork.instant(day(2024, 11, 13), hour: 12, minute: 0))
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: [hole]),
                          symbolId: aapl, timeframe: .h1)
        for ticker in Self.hostileTickers {
            let id = try db.insertSymbol(ticker)
            try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until).prefix(3),
                              symbolId: id, timeframe: .h1)
        }
        return (db, aapl, grid)
    }

    @Test func symbolsThatAreNotTickersAreSkippedAndTheRestIsScanned() throws {
        let (db, _, _) = try seededWithHostileRows()
        let result = try GapScanner(connection: db.connection).scan(universe())
        #expect(result.series.map(\.ticker) == ["AAPL"])
        #expect(result.series[0].gaps.count == 1)
        #expect(result.skippedTickers == Self.hostileTickers.sorted())
        // The rest plans as usual (a bad ticker used to stop the planner with exit 65).
        let plan = try Planner().plan(scans: result.series, grid: .default, window: Plan.Window(from: FallWindow.from, until: FallWindow.until),
                                      source: Plan.Source(host: "h", database: "d"), createdAt: 0)
        #expect(plan.chunks.map(\.symbol.value) == ["AAPL"])
        #expect(plan.summary.missingBars == 1)
        // Nothing is recorded for a skipped series.
        #expect(result.recorded == 1)
        #expect(try db.connection.query("SELECT count(*) FROM barfill.backfill_status").int(0, 0) == 1)
    }

    @Test func aScanThatDefersProgressRecordsNothingUntilToldTo() throws {
        let (db, aapl, grid) = try seededWithHostileRows()
        let scanner = GapScanner(connection: db.connection)
        let store = try BarStore(connection: db.connection)
        let result = try scanner.scan(universe(), recordingProgress: false)
        #expect(result.recorded == 0)
        #expect(result.progress.series.map(\.symbolId) == [aapl])
        #expect(try db.connection.query("SELECT count(*) FROM barfill.backfill_status").int(0, 0) == 0)

        let outcome = try scanner.record(result.progress)
        #expect(outcome == ScanProgress.Outcome(recorded: 1, notRecordedBecause: nil))
        let hole = grid.firstOrdinal(atOrAfter: NewYork.instant(day(2024, 11, 13), hour: 12, minute: 0))
        let status = try store.statuses(symbolIds: [aapl])[SeriesKey(symbol: "AAPL", timeframe: .h1)]
        #expect(status?.verifiedThrough == grid.slot(at: hole).start)
        #expect(status?.verifiedFrom == FallWindow.from)
        #expect(status?.grid == GridOptions.default.description)
    }

    @Test func progressThatCannotBeRecordedSaysWhy() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let aapl = try db.insertSymbol("AAPL")
        let grid = Grid(timeframe: .h1)
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until), symbolId: aapl, timeframe: .h1)
        let scanner = GapScanner(connection: db.connection)
        let result = try scanner.scan(universe(), recordingProgress: false)
        let outcome = try scanner.record(result.progress)
        #expect(outcome.recorded == 0)
        #expect(outcome.notRecordedBecause?.contains("barfill migrate") == true)
    }
}
