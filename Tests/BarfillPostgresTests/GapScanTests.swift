import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

/// One combination of the gap-kinds matrix.
struct ScanCase: CustomTestStringConvertible, Sendable {
    let timeframe: Timeframe
    let options: GridOptions
    let schema: TestDatabase.Schema
    var testDescription: String { "\(timeframe.rawValue) \(options) \(schema)" }
}

func day(_ y: Int, _ m: Int, _ d: Int) -> LocalDate { LocalDate(year: y, month: m, day: d)! }

/// A fall 2024 window with every kind of hole: it spans the end of daylight saving time
/// (2024-11-03), Thanksgiving (11-28, closed) and its early close (11-29, 13:00), and the
/// Christmas Eve early close (12-24).
struct FallWindow {
    let grid: Grid
    static let from = NewYork.midnight(day(2024, 10, 28))
    static let until = NewYork.midnight(day(2024, 12, 31))

    var expected: Range<Int> { grid.ordinals(from: Self.from, until: Self.until) }

    func session(_ date: LocalDate) -> Range<Int> { Array(GridFixture.ordinals(of: grid, sessionsOn: [date])).sorted().rangeValue }
    func sessions(_ first: LocalDate, _ last: LocalDate) -> Set<Int> {
        GridFixture.ordinals(of: grid, sessionsOn: GridFixture.sessionDates(from: first, through: last))
    }

    /// Each hole is one run of consecutive slots, none touching another, so each is exactly one gap.
    var holes: [(name: String, ordinals: Set<Int>)] {
        [
            ("head: the window's first session", Set(session(day(2024, 10, 28)))),
            ("a single slot in the middle of a session", [session(day(2024, 10, 30)).middle]),
            ("Friday's last slot to Monday's first, across the end of DST",
             [session(day(2024, 11, 1)).last!, session(day(2024, 11, 4)).first!]),
            ("overnight: a session's last slot and the next one's first",
             [session(day(2024, 11, 6)).last!, session(day(2024, 11, 7)).first!]),
            ("two whole sessions", sessions(day(2024, 11, 12), day(2024, 11, 13))),
            ("Thanksgiving weekend: Wednesday's last slot, the early close, Monday's first",
             Set(session(day(2024, 11, 29))).union([session(day(2024, 11, 27)).last!, session(day(2024, 12, 2)).first!])),
            ("two weeks", sessions(day(2024, 12, 9), day(2024, 12, 20))),
            ("the Christmas Eve early close", Set(session(day(2024, 12, 24)))),
            ("tail: after the last bar", sessions(day(2024, 12, 27), day(2024, 12, 30))),
        ]
    }

    var missing: Set<Int> { holes.reduce(into: Set<Int>()) { $0.formUnion($1.ordinals) } }

    /// Bars that are not on this grid: pre-market, misaligned, on a holiday, on a weekend, and
    /// inside holes (between the missing slots). Candidates the grid does expect are left out.
    var offGridBars: [Bar] {
        let candidates: [Int64] = [
            NewYork.instant(day(2024, 11, 7), hour: 8, minute: 0),
            NewYork.instant(day(2024, 11, 7), hour: 10, minute: 7),
            NewYork.instant(day(2024, 11, 7), hour: 9, minute: 30),
            NewYork.instant(day(2024, 11, 28), hour: 12, minute: 0),
            NewYork.midnight(day(2024, 11, 28)),
            NewYork.midnight(day(2024, 11, 9)),
            NewYork.instant(day(2024, 11, 12), hour: 16, minute: 30),
            NewYork.instant(day(2024, 11, 12), hour: 10, minute: 37),
            NewYork.instant(day(2024, 12, 26), hour: 17, minute: 10),
        ]
        return candidates.filter { grid.ordinal(of: $0) == nil }.map { fixtureBar(at: $0) }
    }

    /// The scan's answer, computed the slow obvious way: maximal runs of missing expected slots.
    func referenceGaps(present: Set<Int>) -> [Gap] {
        let expected = self.expected
        var gaps: [Gap] = []
        var ordinal = expected.lowerBound
        while ordinal < expected.upperBound {
            guard !present.contains(ordinal) else { ordinal += 1; continue }
            var last = ordinal
            while last + 1 < expected.upperBound, !present.contains(last + 1) { last += 1 }
            let kind: GapKind = present.isEmpty ? .empty
                : ordinal == expected.lowerBound ? .head : last == expected.upperBound - 1 ? .tail : .interior
            gaps.append(Gap(firstOrdinal: ordinal, lastOrdinal: last, from: grid.slot(at: ordinal).start,
                            to: grid.slot(at: last).end, kind: kind))
            ordinal = last + 1
        }
        return gaps
    }
}

extension Range where Bound == Int {
    var middle: Int { lowerBound + count / 2 }
}

extension Array where Element == Int {
    var rangeValue: Range<Int> { isEmpty ? 0..<0 : first!..<(last! + 1) }
}

@Suite(.serialized, .requiresPostgres)
struct GapScanTests {
    static let otherOptions = GridOptions(anchor: .open, scope: .extended, inclusion: .overlap)
    static let matrix: [ScanCase] = [Timeframe.m15, .h1, .d1].flatMap { timeframe in
        [GridOptions.default, otherOptions].flatMap { options in
            [TestDatabase.Schema.swiftBolt, .freshInstall].map { ScanCase(timeframe: timeframe, options: options, schema: $0) }
        }
    }

    private func request(_ timeframe: Timeframe, _ options: GridOptions = .default, symbols: [String] = ["AAPL"],
                         from: Int64 = FallWindow.from, until: Int64 = FallWindow.until, full: Bool = true) -> ScanRequest {
        ScanRequest(symbols: symbols, timeframes: [timeframe], from: from, until: until, options: options, full: full)
    }

    @Test(arguments: matrix)
    func findsExactlyTheMissingSlotsOfEveryKind(_ scanCase: ScanCase) throws {
        let grid = Grid(timeframe: scanCase.timeframe, options: scanCase.options)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: scanCase.schema)
        let aapl = try db.insertSymbol("AAPL")
        try db.insertSymbol("EMPTY")
        let offGrid = window.offGridBars
        try #require(!offGrid.isEmpty)
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: window.missing) + offGrid,
                          symbolId: aapl, timeframe: scanCase.timeframe)
        // Bars outside the window are neither counted nor gaps.
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from - 30 * 86_400, until: FallWindow.from),
                          symbolId: aapl, timeframe: scanCase.timeframe)

        let result = try GapScanner(connection: db.connection)
            .scan(request(scanCase.timeframe, scanCase.options, symbols: ["AAPL", "EMPTY"]))
        #expect(result.series.map(\.ticker) == ["AAPL", "EMPTY"])
        let scan = result.series[0]
        let present = Set(window.expected).subtracting(window.missing)
        #expect(scan.gaps == window.referenceGaps(present: present))
        #expect(scan.gaps.count == window.holes.count, "each hole is one gap: \(window.holes.map(\.name))")
        #expect(scan.gaps.map(\.kind) == [.head] + Array(repeating: .interior, count: window.holes.count - 2) + [.tail])
        for (gap, hole) in zip(scan.gaps, window.holes) {
            #expect(gap.bars == hole.ordinals.count, "\(hole.name)")
            #expect(Set(gap.firstOrdinal...gap.lastOrdinal) == hole.ordinals, "\(hole.name)")
        }
        #expect(scan.expected == window.expected.count)
        #expect(scan.present == present.count)
        #expect(scan.offGrid == offGrid.count)
        #expect(scan.from == FallWindow.from && scan.until == FallWindow.until)

        let empty = result.series[1]
        #expect(empty.gaps == [Gap(firstOrdinal: window.expected.lowerBound, lastOrdinal: window.expected.upperBound - 1,
                                   from: grid.slot(at: window.expected.lowerBound).start,
                                   to: grid.slot(at: window.expected.upperBound - 1).end, kind: .empty)])
        #expect(empty.present == 0 && empty.offGrid == 0)

        if scanCase.schema == .swiftBolt {
            #expect(result.recorded == 0)
            #expect(result.notRecordedBecause?.contains("barfill migrate") == true)
        } else {
            #expect(result.recorded == 2)
        }
    }

    @Test(arguments: [Timeframe.m15, .h1, .d1])
    func aSlotIsExpectedOnlyOnceItHasEnded(_ timeframe: Timeframe) throws {
        let grid = Grid(timeframe: timeframe)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL")
        // Until 11:40 on 2024-12-26: the slot in progress at that moment (and d1's day) is not
        // expected yet, and its bar — present already — is neither a gap nor off the grid.
        let until = NewYork.instant(day(2024, 12, 26), hour: 11, minute: 40)
        let inProgress = grid.slot(at: grid.ordinals(from: FallWindow.from, until: until).upperBound)
        #expect(inProgress.start < until && inProgress.end > until)
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: until) + [fixtureBar(at: inProgress.start)],
                          symbolId: aapl, timeframe: timeframe)
        let scan = try GapScanner(connection: db.connection).scan(request(timeframe, until: until)).series[0]
        #expect(scan.gaps.isEmpty)
        #expect(scan.offGrid == 0)
        #expect(scan.present == scan.expected)

        // Without the last ended slot's bar, the tail is that one slot.
        let lastEnded = grid.ordinals(from: FallWindow.from, until: until).upperBound - 1
        try db.connection.query("DELETE FROM ohlc_bars WHERE ts = $1::timestamptz", [Timestamp(grid.slot(at: lastEnded).start)])
        let after = try GapScanner(connection: db.connection).scan(request(timeframe, until: until)).series[0]
        #expect(after.gaps.map(\.kind) == [.tail])
        #expect(after.gaps.map(\.firstOrdinal) == [lastEnded] && after.gaps.map(\.bars) == [1])
    }

    @Test func ledgerRangesAreNotGaps() throws {
        let grid = Grid(timeframe: .h1)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL")
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: window.missing),
                          symbolId: aapl, timeframe: .h1)
        let weeks = window.holes[6].ordinals.sorted()
        let single = window.holes[1].ordinals.first!
        let store = try BarStore(connection: db.connection)
        // The provider said: nothing for the single slot, nothing for the middle of the two weeks.
        try store.recordEmpty(ranges: [(grid.slot(at: single).start, grid.slot(at: single).end),
                                       (grid.slot(at: weeks[10]).start, grid.slot(at: weeks[20]).start)],
                              symbolId: aapl, timeframe: .h1, provider: .massive)
        let scan = try GapScanner(connection: db.connection).scan(request(.h1)).series[0]
        let present = Set(window.expected).subtracting(window.missing)
        var expectedGaps = window.referenceGaps(present: present).filter { $0.firstOrdinal != single }
        let split = expectedGaps.firstIndex { $0.firstOrdinal == weeks[0] }!
        expectedGaps.replaceSubrange(split...split, with: [
            Gap(firstOrdinal: weeks[0], lastOrdinal: weeks[9], from: grid.slot(at: weeks[0]).start, to: grid.slot(at: weeks[9]).end, kind: .interior),
            Gap(firstOrdinal: weeks[20], lastOrdinal: weeks.last!, from: grid.slot(at: weeks[20]).start, to: grid.slot(at: weeks.last!).end, kind: .interior),
        ])
        #expect(scan.gaps == expectedGaps)
    }

    @Test func unchangedDataGivesTheSameFingerprintAndAnyChangeAnother() throws {
        let grid = Grid(timeframe: .h1)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let aapl = try db.insertSymbol("AAPL")
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: window.missing),
                          symbolId: aapl, timeframe: .h1)
        let scanner = GapScanner(connection: db.connection)
        let first = try scanner.scan(request(.h1)).series[0]
        let second = try scanner.scan(request(.h1)).series[0]
        #expect(first == second)
        #expect(first.fingerprint.count == 64)
        let single = window.holes[1].ordinals.first!
        try db.insertBars([fixtureBar(at: grid.slot(at: single).start)], symbolId: aapl, timeframe: .h1)
        let filled = try scanner.scan(request(.h1)).series[0]
        #expect(filled.fingerprint != first.fingerprint)
        #expect(filled.gaps.count == first.gaps.count - 1)
        try db.insertBars([fixtureBar(at: NewYork.instant(day(2024, 11, 7), hour: 10, minute: 7))], symbolId: aapl, timeframe: .h1)
        #expect(try scanner.scan(request(.h1)).series[0].fingerprint != filled.fingerprint)
    }

    @Test func incrementalScanStartsShortlyBeforeTheVerifiedPoint() throws {
        let grid = Grid(timeframe: .h1)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL")
        let novemberEnd = NewYork.midnight(day(2024, 12, 2))
        let hole = grid.firstOrdinal(atOrAfter: NewYork.instant(day(2024, 11, 13), hour: 12, minute: 0))
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: novemberEnd, except: [hole]),
                          symbolId: aapl, timeframe: .h1)
        let scanner = GapScanner(connection: db.connection)
        let store = try BarStore(connection: db.connection)
        let key = SeriesKey(symbol: "AAPL", timeframe: .h1)

        // A full scan records the start of the earliest gap as the verified point.
        let full = try scanner.scan(request(.h1, until: novemberEnd))
        #expect(full.recorded == 1)
        #expect(try store.statuses(symbolIds: [aapl])[key]?.verifiedThrough == grid.slot(at: hole).start)

        // Filled (as apply would), a second scan verifies through the window's end.
        try store.upsert(bars: [fixtureBar(at: grid.slot(at: hole).start)], symbolId: aapl, timeframe: .h1, provider: .massive)
        let clean = try scanner.scan(request(.h1, until: novemberEnd, full: false))
        #expect(clean.series[0].gaps.isEmpty)
        #expect(clean.series[0].from > FallWindow.from, "the second scan is incremental already")
        #expect(try store.statuses(symbolIds: [aapl])[key]?.verifiedThrough == novemberEnd)

        // A new day of bars with one hole: the incremental scan starts five sessions back and finds it.
        let december3 = NewYork.midnight(day(2024, 12, 4))
        let newHole = grid.firstOrdinal(atOrAfter: NewYork.instant(day(2024, 12, 3), hour: 14, minute: 0))
        try db.insertBars(GridFixture.everySlot(of: grid, from: novemberEnd, until: december3, except: [newHole]),
                          symbolId: aapl, timeframe: .h1)
        let incremental = try scanner.scan(request(.h1, until: december3, full: false)).series[0]
        let fiveSessionsBack = NewYork.midnight(day(2024, 11, 22))
        #expect(incremental.from == fiveSessionsBack)
        #expect(incremental.expected == grid.ordinals(from: fiveSessionsBack, until: december3).count)
        #expect(incremental.gaps.map(\.firstOrdinal) == [newHole])
        #expect(incremental.gaps.map(\.kind) == [.interior])

        // --full ignores the verified point and still finds the same gap over the whole window.
        let rescanned = try scanner.scan(request(.h1, until: december3, full: true)).series[0]
        #expect(rescanned.from == FallWindow.from)
        #expect(rescanned.gaps.map(\.firstOrdinal) == [newHole])
        // A different grid does not trust the verified point either.
        let other = try scanner.scan(request(.h1, Self.otherOptions, until: december3, full: false)).series[0]
        #expect(other.from == FallWindow.from)
    }

    @Test func aReadOnlyRoleCanScanAndRecordsNothing() throws {
        let grid = Grid(timeframe: .h1)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL")
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: window.missing),
                          symbolId: aapl, timeframe: .h1)
        let role = "barfill_reader_\(db.name.suffix(8))"
        try db.connection.execute(script: """
            CREATE ROLE \(role) LOGIN;
            GRANT USAGE ON SCHEMA public, barfill TO \(role);
            GRANT SELECT ON ALL TABLES IN SCHEMA public, barfill TO \(role);
            """)
        defer { _ = try? db.connection.execute(script: "DROP OWNED BY \(role); DROP ROLE \(role)") }
        var components = URLComponents(string: db.url)!
        components.user = role
        let reader = try PostgresConnection(url: components.string!)
        let result = try GapScanner(connection: reader).scan(request(.h1))
        #expect(result.series[0].gaps == window.referenceGaps(present: Set(window.expected).subtracting(window.missing)))
        #expect(result.recorded == 0)
        #expect(result.notRecordedBecause?.contains("cannot write") == true)
        #expect(try db.connection.query("SELECT count(*) FROM barfill.backfill_status").scalar() == "0")
    }

    @Test func universeAllScansEverySeriesWithBarsAndWatchlistItsSymbols() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let ids = try ["AAPL", "MSFT", "TSLA"].map { try db.insertSymbol($0, primarySource: $0 == "MSFT" ? "finnhub" : "yfinance") }
        let h1 = Grid(timeframe: .h1), d1 = Grid(timeframe: .d1)
        try db.insertBars(GridFixture.everySlot(of: h1, from: FallWindow.from, until: FallWindow.until), symbolId: ids[0], timeframe: .h1)
        try db.insertBars(GridFixture.everySlot(of: d1, from: FallWindow.from, until: FallWindow.until), symbolId: ids[0], timeframe: .d1)
        try db.insertBars(GridFixture.everySlot(of: h1, from: FallWindow.from, until: FallWindow.until), symbolId: ids[1], timeframe: .h1)
        try db.insertWatchlist("tech", symbolIds: [ids[1], ids[2]])
        let scanner = GapScanner(connection: db.connection)

        let all = try scanner.scan(ScanRequest(from: FallWindow.from, until: FallWindow.until)).series
        #expect(all.map { "\($0.ticker) \($0.timeframe)" } == ["AAPL h1", "AAPL d1", "MSFT h1"])
        #expect(all.map(\.provider) == [.massive, .massive, .finnhub])   // yfinance falls back to massive
        #expect(all.allSatisfy { $0.gaps.isEmpty && $0.present == $0.expected })

        let dailyOnly = try scanner.scan(ScanRequest(timeframes: [.d1], from: FallWindow.from, until: FallWindow.until)).series
        #expect(dailyOnly.map(\.ticker) == ["AAPL"])

        let watched = try scanner.scan(ScanRequest(universe: .watchlist, from: FallWindow.from, until: FallWindow.until)).series
        #expect(watched.map(\.ticker) == ["MSFT"])
        let watchedH1 = try scanner.scan(ScanRequest(universe: .watchlist, timeframes: [.h1], from: FallWindow.from,
                                                     until: FallWindow.until, provider: .finnhub)).series
        #expect(watchedH1.map(\.ticker) == ["MSFT", "TSLA"])
        #expect(watchedH1.map { $0.gaps.map(\.kind) } == [[], [.empty]])
        #expect(watchedH1.allSatisfy { $0.provider == .finnhub })

        #expect(throws: PostgresError.self) { try scanner.scan(self.request(.h1, symbols: ["AAPL", "NOPE"])) }
        #expect(throws: PostgresError.self) { try scanner.scan(self.request(.m1, symbols: ["AAPL"])) }
    }

    @Test(.requiresPooler, arguments: [TestDatabase.Schema.swiftBolt, .freshInstall])
    func scansThroughATransactionModePooler(_ schema: TestDatabase.Schema) throws {
        let grid = Grid(timeframe: .m15)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: schema)
        let aapl = try db.insertSymbol("AAPL")
        try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: window.missing),
                          symbolId: aapl, timeframe: .m15)
        let pooled = try #require(try db.connectThroughPooler())
        let scanner = GapScanner(connection: pooled)
        let reference = window.referenceGaps(present: Set(window.expected).subtracting(window.missing))
        // Repeated scans: each transaction may run on another server connection.
        for _ in 0..<3 {
            #expect(try scanner.scan(request(.m15)).series[0].gaps == reference)
        }
        let store = try BarStore(connection: pooled)
        let filled = try store.upsert(bars: window.holes[1].ordinals.map { fixtureBar(at: grid.slot(at: $0).start) },
                                      symbolId: aapl, timeframe: .m15, provider: .massive)
        #expect(filled.inserted == 1)
        #expect(try scanner.scan(request(.m15)).series[0].gaps.count == reference.count - 1)
    }

    @Test func manySeriesSplitIntoSeveralStatementsGiveTheSameAnswer() throws {
        let grid = Grid(timeframe: .h1)
        let window = FallWindow(grid: grid)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        for index in 0..<7 {
            let id = try db.insertSymbol("S\(index)")
            let holes = window.holes[index].ordinals
            try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: holes),
                              symbolId: id, timeframe: .h1)
        }
        let scanner = GapScanner(connection: db.connection)
        var batched = ScanRequest(from: FallWindow.from, until: FallWindow.until, full: true)
        batched.seriesPerStatement = 2
        let one = try scanner.scan(ScanRequest(from: FallWindow.from, until: FallWindow.until, full: true)).series
        let many = try scanner.scan(batched).series
        #expect(one == many)
        #expect(one.map { $0.gaps.map(\.bars) } == (0..<7).map { [window.holes[$0].ordinals.count] })
    }

    @Test func seriesVerifiedThroughDifferentPointsEachStartAtTheirOwn() throws {
        let grid = Grid(timeframe: .h1)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let store = try BarStore(connection: db.connection)
        let holes = [NewYork.instant(day(2024, 12, 4), hour: 11, minute: 0), NewYork.instant(day(2024, 12, 11), hour: 14, minute: 0)]
            .map { grid.firstOrdinal(atOrAfter: $0) }
        let verifiedPoints = [day(2024, 11, 15), day(2024, 11, 22), day(2024, 12, 2)].map(NewYork.midnight)
        var ids: [String] = []
        for (index, verified) in verifiedPoints.enumerated() {
            let id = try db.insertSymbol("S\(index)")
            ids.append(id)
            try db.insertBars(GridFixture.everySlot(of: grid, from: FallWindow.from, until: FallWindow.until, except: Set(holes)),
                              symbolId: id, timeframe: .h1)
            try store.updateStatus(symbolId: id, timeframe: .h1, result: "fixture",
                                   verified: (from: FallWindow.from, through: verified, grid: GridOptions.default.description))
        }
        let result = try GapScanner(connection: db.connection).scan(request(.h1, symbols: ["S0", "S1", "S2"], full: false))
        #expect(result.series.map(\.from) == [day(2024, 11, 8), day(2024, 11, 15), day(2024, 11, 22)].map(NewYork.midnight))
        for scan in result.series {
            #expect(scan.gaps.map(\.firstOrdinal) == holes)
            #expect(scan.gaps.allSatisfy { $0.kind == .interior && $0.bars == 1 })
            #expect(scan.expected == grid.ordinals(from: scan.from, until: FallWindow.until).count)
        }
        // The scan verified each series through its first remaining gap.
        let statuses = try store.statuses(symbolIds: ids)
        #expect(["S0", "S1", "S2"].map { statuses[SeriesKey(symbol: $0, timeframe: .h1)]?.verifiedThrough }
                == ids.map { _ in grid.slot(at: holes[0]).start })
    }

    @Test(arguments: [Timeframe.m15, .h1, .d1])
    func aHoleAcrossTheSpringClockChangeIsOneGap(_ timeframe: Timeframe) throws {
        // Clocks went forward on Sunday 2024-03-10: Friday's session closed at 21:00 UTC, Monday's
        // opened at 13:30 UTC. The hole runs from Friday's last slot to Monday's first two.
        let grid = Grid(timeframe: timeframe)
        let from = NewYork.midnight(day(2024, 3, 4)), until = NewYork.midnight(day(2024, 3, 16))
        let friday = Array(GridFixture.ordinals(of: grid, sessionsOn: [day(2024, 3, 8)])).sorted()
        let monday = Array(GridFixture.ordinals(of: grid, sessionsOn: [day(2024, 3, 11)])).sorted()
        let hole = Set([friday.last!] + monday.prefix(timeframe == .d1 ? 1 : 2))
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let id = try db.insertSymbol("AAPL")
        try db.insertBars(GridFixture.everySlot(of: grid, from: from, until: until, except: hole), symbolId: id, timeframe: timeframe)
        let scan = try GapScanner(connection: db.connection).scan(request(timeframe, from: from, until: until)).series[0]
        let first = hole.min()!, last = hole.max()!
        #expect(scan.gaps == [Gap(firstOrdinal: first, lastOrdinal: last, from: grid.slot(at: first).start,
                                  to: grid.slot(at: last).end, kind: .interior)])
        if timeframe.isIntraday {
            // Monday's first slot starts 09:30 or 10:00 New York time, now 4 hours from UTC.
            let mondayOpen = NewYork.instant(day(2024, 3, 11), hour: 9, minute: 30)
            #expect(mondayOpen == 1_710_163_800)
            #expect(grid.slot(at: monday[0]).start >= mondayOpen)
        }
    }
}
