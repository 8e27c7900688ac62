import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

/// The overview's weekly counts come from PostgreSQL; they must equal what the slot-by-slot
/// classification of the same bars gives.
@Suite(.serialized, .requiresPostgres)
struct CoverageOverviewQueryTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
    static func at(_ date: String, _ hour: Int, _ minute: Int = 0) -> Int64 {
        NewYork.instant(day(date), hour: hour, minute: minute)
    }
    /// Five weeks: Thanksgiving (a holiday and an early close), three full weeks, Christmas (an
    /// early close and a holiday).
    static let from = NewYork.midnight(day("2024-11-25")), until = NewYork.midnight(day("2024-12-28"))
    static let grid = Grid(timeframe: .h1)
    static let weeks = CoverageWeeks(from: from, until: until)

    /// AAPL h1: every slot but 2024-11-29 12:00 (the early close), two slots of the week of 12-02,
    /// the whole week of 12-09, and 12-17 10:00 (confirmed empty by two overlapping ranges); off-grid
    /// bars at 12-02 08:00 and on Christmas Day. MSFT h1: every slot, 12-17 10:00 also in the ledger.
    /// NVDA: no bar at all.
    static func load(_ db: TestDatabase) throws {
        let aapl = try db.insertSymbol("AAPL"), msft = try db.insertSymbol("MSFT")
        _ = try db.insertSymbol("NVDA")
        let all = grid.slots(from: from, until: until).map(\.start)
        let holes: Set<Int64> = [at("2024-11-29", 12), at("2024-12-03", 11), at("2024-12-04", 14), at("2024-12-17", 10)]
        let aaplKeys = all.filter { key in
            !holes.contains(key) && !(at("2024-12-09", 0) <= key && key < at("2024-12-14", 0))
        } + [at("2024-12-02", 8), at("2024-12-25", 10)]
        try db.insertBars(aaplKeys.map { fixtureBar(at: $0) }, symbolId: aapl, timeframe: .h1)
        try db.insertBars(all.map { fixtureBar(at: $0) }, symbolId: msft, timeframe: .h1)
        let store = try BarStore(connection: db.connection)
        try store.recordEmpty(ranges: [(from: at("2024-12-17", 10), to: at("2024-12-17", 11)),
                                       (from: at("2024-12-17", 9, 30), to: at("2024-12-17", 11))],
                              symbolId: aapl, timeframe: .h1, provider: .massive)
        try store.recordEmpty(ranges: [(from: at("2024-12-17", 10), to: at("2024-12-17", 11))],
                              symbolId: msft, timeframe: .h1, provider: .massive)
    }

    static func overview(_ connection: PostgresConnection, tickers: [String] = ["AAPL", "MSFT", "NVDA"],
                         details: @escaping ([CoverageOverviewRow]) -> [Int] = { _ in [] }) throws
        -> (overview: [CoverageOverviewRow], details: [CoverageQuery.SeriesData]) {
        try CoverageQuery(connection: connection).readOverview(
            tickers: tickers.compactMap(Ticker.init), timeframes: [.h1], from: from, until: until, weeks: weeks,
            slots: { CoverageWeekSlots(grid: Grid(timeframe: $0), from: from, until: until, weeks: weeks) },
            details: details)
    }

    @Test func weeklyCountsEqualTheSlotBySlotClassification() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try Self.load(db)
        let rows = try Self.overview(db.connection).overview

        // The direct computation: every bar key read, each slot classified, counted per week.
        let data = try CoverageQuery(connection: db.connection).read(
            tickers: ["AAPL", "MSFT", "NVDA"].compactMap(Ticker.init), timeframes: [.h1], from: Self.from, until: Self.until)
        let direct = data.map { item in
            CoverageOverviewRow(CoverageSeries(ticker: item.ticker, grid: Self.grid, from: Self.from, until: Self.until,
                                               bars: item.bars, confirmedEmpty: item.confirmedEmpty.map { ($0.from, $0.to) }),
                                weeks: Self.weeks)
        }
        #expect(rows == direct)

        // And what the fixture says, week by week.
        #expect(Self.weeks.mondays.map(\.description) == ["2024-11-25", "2024-12-02", "2024-12-09", "2024-12-16", "2024-12-23"])
        #expect(rows.map(\.ticker) == ["AAPL", "MSFT", "NVDA"])
        let (aapl, msft, nvda) = (rows[0], rows[1], rows[2])
        // Thanksgiving week: 3 full days and a 13:00 close; Christmas week: a 13:00 close, a holiday, 2 full days.
        #expect(aapl.weeks.map(\.expected) == [21, 30, 30, 30, 21])
        #expect(aapl.weeks.map(\.state) == [.partial, .partial, .missing, .complete, .complete])
        #expect(aapl.weeks.map(\.missing) == [1, 2, 30, 0, 0])
        #expect(aapl.weeks[3].confirmedEmpty == 1)
        #expect(aapl.offGrid == 2)
        #expect(msft.weeks.allSatisfy { $0.state == .complete && $0.confirmedEmpty == 0 })
        #expect(msft.offGrid == 0)
        #expect(nvda.weeks.allSatisfy { $0.state == .missing && $0.present == 0 })
        #expect(nvda.totals.expected == aapl.totals.expected)
    }

    @Test func onlyThePickedSeriesAreReadInFull() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try Self.load(db)
        let (rows, details) = try Self.overview(db.connection) { rows in
            rows.indices.filter { rows[$0].ticker == "AAPL" }
        }
        #expect(rows.count == 3)
        let full = try CoverageQuery(connection: db.connection).read(
            tickers: [Ticker("AAPL")!], timeframes: [.h1], from: Self.from, until: Self.until)
        #expect(details == full)
    }

    @Test func withoutNamedTickersTheSeriesWithBarsAreShown() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try Self.load(db)
        let rows = try Self.overview(db.connection, tickers: []).overview
        #expect(rows.map(\.ticker) == ["AAPL", "MSFT"])
    }

    @Test(.requiresPooler)
    func itReadsThroughATransactionModePooler() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try Self.load(db)
        let pooled = try #require(try db.connectThroughPooler())
        let direct = try Self.overview(db.connection).overview
        for _ in 0..<3 {
            #expect(try Self.overview(pooled).overview == direct)
        }
    }
}
