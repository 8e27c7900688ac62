import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

@Suite(.serialized, .requiresPostgres)
struct CoverageQueryTests {
    static let thursday = LocalDate(iso: "2024-03-28")!, monday = LocalDate(iso: "2024-04-01")!
    static let from = NewYork.midnight(thursday), until = NewYork.midnight(LocalDate(iso: "2024-04-02")!)
    static func at(_ date: LocalDate, _ hour: Int) -> Int64 { NewYork.instant(date, hour: hour, minute: 0) }

    /// AAPL h1 on Thursday and Monday (Good Friday between) less Thursday 12:00, a pre-market bar,
    /// a bar after the window; MSFT d1 on both days.
    static func load(_ db: TestDatabase) throws -> (aapl: String, msft: String) {
        let aapl = try db.insertSymbol("AAPL"), msft = try db.insertSymbol("MSFT")
        _ = try db.insertSymbol("NVDA")
        let hours = [10, 11, 13, 14, 15].map { at(thursday, $0) } + (10...15).map { at(monday, $0) }
        try db.insertBars((hours + [at(thursday, 8), at(LocalDate(iso: "2024-04-02")!, 10)]).map { fixtureBar(at: $0) },
                          symbolId: aapl, timeframe: .h1)
        try db.insertBars([at(thursday, 0), at(monday, 0)].map { fixtureBar(at: $0) }, symbolId: msft, timeframe: .d1)
        return (aapl, msft)
    }

    @Test(arguments: [TestDatabase.Schema.swiftBolt, .freshInstall])
    func withoutFiltersItReadsTheSeriesThatHaveBarsInTheWindow(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        _ = try Self.load(db)
        let data = try CoverageQuery(connection: db.connection)
            .read(tickers: [], timeframes: [], from: Self.from, until: Self.until)
        #expect(data.map { "\($0.ticker) \($0.timeframe)" } == ["AAPL h1", "MSFT d1"])
        // Only the window's bars, off-grid ones included, ascending.
        #expect(data[0].bars == ([8, 10, 11, 13, 14, 15].map { Self.at(Self.thursday, $0) }
                                 + (10...15).map { Self.at(Self.monday, $0) }))
        #expect(data.allSatisfy { $0.confirmedEmpty.isEmpty })
    }

    @Test func namedTickersAndTimeframesGiveEveryPairAndTheLedgerMarksConfirmedEmptySlots() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let (aapl, _) = try Self.load(db)
        try BarStore(connection: db.connection).recordEmpty(
            ranges: [(from: Self.at(Self.thursday, 12), to: Self.at(Self.thursday, 13))],
            symbolId: aapl, timeframe: .h1, provider: .massive)

        let tickers = ["NVDA", "AAPL"].compactMap(Ticker.init)
        let data = try CoverageQuery(connection: db.connection)
            .read(tickers: tickers, timeframes: [.h1], from: Self.from, until: Self.until)
        #expect(data.map(\.ticker) == ["AAPL", "NVDA"])
        #expect(data[1].bars.isEmpty)
        #expect(data[0].confirmedEmpty == [.init(from: Self.at(Self.thursday, 12), to: Self.at(Self.thursday, 13))])

        let series = CoverageSeries(ticker: "AAPL", grid: Grid(timeframe: .h1), from: Self.from, until: Self.until,
                                    bars: data[0].bars, confirmedEmpty: data[0].confirmedEmpty.map { ($0.from, $0.to) })
        let t = series.totals
        #expect((t.expected, t.present, t.missing, t.confirmedEmpty, t.offGrid) == (12, 11, 0, 1, 1))
    }

    @Test(.requiresPooler)
    func itReadsThroughATransactionModePooler() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        _ = try Self.load(db)
        let pooled = try #require(try db.connectThroughPooler())
        for _ in 0..<3 {
            let data = try CoverageQuery(connection: pooled)
                .read(tickers: [], timeframes: [.d1], from: Self.from, until: Self.until)
            #expect(data.map(\.bars.count) == [2])
        }
    }
}
