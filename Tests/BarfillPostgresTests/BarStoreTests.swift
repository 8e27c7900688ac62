import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

@Suite(.serialized, .requiresPostgres)
struct BarStoreTests {
    static let schemas: [TestDatabase.Schema] = [.swiftBolt, .freshInstall]
    /// 2024-03-01 15:00 UTC (10:00 New York) and the next hours.
    static let start: Int64 = 1_709_305_200
    static func hours(_ range: Range<Int>) -> [Bar] { range.map { fixtureBar(at: start + Int64($0) * 3_600) } }

    @Test(arguments: schemas)
    func upsertInsertsOnlyWhatIsMissingAndCountsTheRest(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        try db.insertBars(Self.hours(0..<3), symbolId: symbol, timeframe: .h1)
        let store = try BarStore(connection: db.connection)

        let first = try store.upsert(bars: Self.hours(0..<6), symbolId: symbol, timeframe: .h1, provider: .massive)
        #expect(first == UpsertCounts(inserted: 3, updated: 0, unchanged: 3))
        let again = try store.upsert(bars: Self.hours(0..<6), symbolId: symbol, timeframe: .h1, provider: .massive)
        #expect(again == UpsertCounts(inserted: 0, updated: 0, unchanged: 6))
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == Self.hours(0..<6).map(\.ts))
        #expect(try db.connection.query("SELECT count(DISTINCT provider) FROM ohlc_bars").scalar() == "1")
    }

    @Test(arguments: schemas)
    func insertingAbsentBarsCopiesThemStraightIn(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        let store = try BarStore(connection: db.connection)
        #expect(try store.insertAbsent(bars: Self.hours(0..<4), symbolId: symbol, timeframe: .h1, provider: .massive)
                == UpsertCounts(inserted: 4))
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == Self.hours(0..<4).map(\.ts))
    }

    /// Every field arrives as given, read back with plain SQL: the COPY writer and the upsert's temp
    /// table are checked against the database itself, not against a fixture loaded the same way.
    @Test(arguments: schemas)
    func everyFieldIsWrittenAsGiven(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        let store = try BarStore(connection: db.connection)
        let bars = Self.hours(0..<4)
        _ = try store.insertAbsent(bars: Array(bars.prefix(2)), symbolId: symbol, timeframe: .h1, provider: .massive)
        try db.insertBars(bars.suffix(2).map { fixtureBar(at: $0.ts, price: 42) }, symbolId: symbol, timeframe: .h1)
        _ = try store.upsert(bars: bars, symbolId: symbol, timeframe: .h1, provider: .massive, overwrite: true)
        let rows = try db.connection.query("""
            SELECT extract(epoch FROM ts)::bigint, open::float8, high::float8, low::float8, close::float8, volume::float8, provider::text
            FROM ohlc_bars WHERE symbol_id = $1::uuid ORDER BY ts
            """, [symbol])
        let stored = try (0..<rows.rowCount).map {
            Bar(ts: try rows.int64($0, 0)!, open: try rows.double($0, 1)!, high: try rows.double($0, 2)!,
                low: try rows.double($0, 3)!, close: try rows.double($0, 4)!, volume: try rows.double($0, 5)!)
        }
        // numeric(20, 6) keeps six decimals: equal to within that.
        func same(_ a: Bar, _ b: Bar) -> Bool {
            a.ts == b.ts && [(a.open, b.open), (a.high, b.high), (a.low, b.low), (a.close, b.close), (a.volume, b.volume)]
                .allSatisfy { abs($0.0 - $0.1) < 1e-6 }
        }
        #expect(stored.count == bars.count && zip(stored, bars).allSatisfy(same), "\(stored) != \(bars)")
        #expect((0..<rows.rowCount).allSatisfy { rows.string($0, 6) == "massive" })
    }

    @Test(arguments: schemas)
    func aBarStoredSinceThePrecheckTurnsTheCopyIntoAnUpsertInTheSameTransaction(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        // Another writer stored hour 2 after the chunk's precheck found it empty.
        try db.insertBars(Self.hours(2..<3).map { fixtureBar(at: $0.ts, price: 42) }, symbolId: symbol, timeframe: .h1)
        let counts = try db.connection.transaction { connection in
            let store = try BarStore(connection: connection)
            let counts = try store.insertAbsent(bars: Self.hours(0..<5), symbolId: symbol, timeframe: .h1, provider: .massive)
            // The transaction is still usable after the refused COPY.
            #expect(try connection.query("SELECT count(*) FROM ohlc_bars").int(0, 0) == 5)
            return counts
        }
        #expect(counts == UpsertCounts(inserted: 4, updated: 0, unchanged: 1))
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == Self.hours(0..<5).map(\.ts))
        // The other writer's bar was kept, not overwritten.
        #expect(try db.connection.query("SELECT close::float8 FROM ohlc_bars WHERE ts = $1::timestamptz",
                                        [Timestamp(Self.hours(2..<3)[0].ts)]).double(0, 0)
                == fixtureBar(at: Self.hours(2..<3)[0].ts, price: 42).close)
    }

    @Test(arguments: schemas)
    func overwriteUpdatesOnlyRowsThatDiffer(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("MSFT")
        let store = try BarStore(connection: db.connection)
        #expect(try store.upsert(bars: Self.hours(0..<4), ticker: "MSFT", timeframe: .h1, provider: .finnhub)
                == UpsertCounts(inserted: 4))

        var changed = Self.hours(0..<5)
        changed[1].close += 1.5
        changed[3].volume = 77
        // Kept by default: the existing rows win.
        #expect(try store.upsert(bars: changed, symbolId: symbol, timeframe: .h1, provider: .finnhub)
                == UpsertCounts(inserted: 1, updated: 0, unchanged: 4))
        // With overwrite: the two rows that differ are rewritten, the rest stay.
        #expect(try store.upsert(bars: changed, symbolId: symbol, timeframe: .h1, provider: .finnhub, overwrite: true)
                == UpsertCounts(inserted: 0, updated: 2, unchanged: 3))
        #expect(try store.upsert(bars: changed, symbolId: symbol, timeframe: .h1, provider: .finnhub, overwrite: true)
                == UpsertCounts(inserted: 0, updated: 0, unchanged: 5))
        let stored = try db.connection.query("""
            SELECT close::float8, volume::float8 FROM ohlc_bars WHERE ts = $1::timestamptz OR ts = $2::timestamptz ORDER BY ts
            """, [Timestamp(changed[1].ts), Timestamp(changed[3].ts)])
        #expect(try stored.double(0, 0) == changed[1].close)
        #expect(try stored.double(1, 1) == 77)
    }

    @Test func duplicateTimestampsInOneBatchAreWrittenOnce() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let symbol = try db.insertSymbol("IBM")
        let store = try BarStore(connection: db.connection)
        var bars = Self.hours(0..<3)
        bars.append(fixtureBar(at: bars[0].ts, price: 50))
        #expect(try store.upsert(bars: bars, symbolId: symbol, timeframe: .h1, provider: .massive, overwrite: true)
                == UpsertCounts(inserted: 3))
        #expect(try db.connection.query("SELECT min(open)::float8 FROM ohlc_bars").scalar().flatMap(Double.init) ?? 0 < 60)
    }

    @Test func providerIsWrittenWithTheLabelTheSchemaHas() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        // An older app schema that still calls Massive by its former name.
        try db.connection.execute(script: """
            ALTER TABLE ohlc_bars ALTER COLUMN provider TYPE text;
            CREATE TYPE old_provider AS ENUM ('finnhub', 'polygon');
            ALTER TABLE ohlc_bars ALTER COLUMN provider TYPE old_provider USING provider::old_provider;
            """)
        let symbol = try db.insertSymbol("SPY")
        let store = try BarStore(connection: db.connection)
        #expect(try store.providerLabel(.massive) == "polygon")
        try store.upsert(bars: Self.hours(0..<2), symbolId: symbol, timeframe: .h1, provider: .massive)
        #expect(try db.connection.query("SELECT DISTINCT provider::text FROM ohlc_bars").scalar() == "polygon")
    }

    @Test func timeframesTheEnumLacksAreRefusedClearly() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let symbol = try db.insertSymbol("AAPL")
        let store = try BarStore(connection: db.connection)
        #expect(throws: PostgresError.self) {
            try store.upsert(bars: Self.hours(0..<1), symbolId: symbol, timeframe: .m5, provider: .massive)
        }
        #expect(try db.barCount() == 0)
    }

    @Test func nonFiniteBarsAreRejectedAndNothingIsWritten() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let symbol = try db.insertSymbol("AAPL")
        let store = try BarStore(connection: db.connection)
        var bars = Self.hours(0..<3)
        bars[2].high = .infinity
        #expect(throws: PostgresError.invalidInput("a non-finite number (inf) cannot be stored")) {
            try store.upsert(bars: bars, symbolId: symbol, timeframe: .h1, provider: .massive)
        }
        #expect(try db.barCount() == 0)
    }

    @Test(arguments: schemas)
    func countPresentCountsOnlyTheGivenSlots(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        let other = try db.insertSymbol("MSFT")
        try db.insertBars(Self.hours(0..<6).enumerated().filter { $0.offset != 2 }.map(\.element), symbolId: symbol, timeframe: .h1)
        try db.insertBars(Self.hours(0..<6), symbolId: other, timeframe: .h1)
        try db.insertBars(Self.hours(0..<6), symbolId: symbol, timeframe: .m15)
        let store = try BarStore(connection: db.connection)
        let slots = Self.hours(1..<5).map(\.ts)
        #expect(try store.countPresent(symbolId: symbol, timeframe: .h1, slotStarts: slots) == 3)
        #expect(try store.countPresent(symbolId: other, timeframe: .h1, slotStarts: slots) == 4)
        #expect(try store.countPresent(symbolId: symbol, timeframe: .h1, slotStarts: []) == 0)
    }

    @Test func ledgerAndStatusCommitWithTheBarsInOneTransaction() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let symbol = try db.insertSymbol("AAPL")
        let store = try BarStore(connection: db.connection)
        let ranges: [(from: Int64, to: Int64)] = [(Self.start + 7_200, Self.start + 10_800), (Self.start + 86_400, Self.start + 90_000)]
        try db.connection.transaction { _ in
            let counts = try store.upsert(bars: Self.hours(0..<2), symbolId: symbol, timeframe: .h1, provider: .massive)
            #expect(counts.inserted == 2)
            #expect(try store.recordEmpty(ranges: ranges, symbolId: symbol, timeframe: .h1, provider: .massive) == 2)
            try store.updateStatus(symbolId: symbol, timeframe: .h1, result: "inserted 2")
        }
        #expect(try store.recordEmpty(ranges: ranges, symbolId: symbol, timeframe: .h1, provider: .massive) == 0)
        #expect(try store.emptyRanges(symbolId: symbol, timeframe: .h1).map { [$0.from, $0.to] } == ranges.map { [$0.from, $0.to] })
        let status = try #require(try store.statuses(symbolIds: [symbol])[SeriesKey(symbol: "AAPL", timeframe: .h1)])
        #expect(status.oldest == Self.start)
        #expect(status.newest == Self.start + 3_600)
        #expect(status.lastResult == "inserted 2")
        #expect(status.verifiedThrough == nil)

        try store.updateStatus(symbolId: symbol, timeframe: .h1, result: "scanned",
                               verified: (from: Self.start, through: Self.start + 7_200, grid: "clock/regular/start-inside"))
        try store.updateStatus(symbolId: symbol, timeframe: .h1, result: "filled")
        let kept = try #require(try store.statuses(symbolIds: [symbol])[SeriesKey(symbol: "AAPL", timeframe: .h1)])
        #expect(kept.verifiedThrough == Self.start + 7_200)
        #expect(kept.verifiedFrom == Self.start)
        #expect(kept.grid == "clock/regular/start-inside")
        #expect(kept.lastResult == "filled")
    }

    @Test func aConnectionKilledMidChunkWritesNothing() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let symbol = try db.insertSymbol("AAPL")
        let worker = try db.connect()
        let pid = try worker.query("SELECT pg_backend_pid()").scalar()!
        let store = try BarStore(connection: worker)
        do {
            try worker.transaction { _ in
                try store.upsert(bars: Self.hours(0..<6), symbolId: symbol, timeframe: .h1, provider: .massive)
                try store.recordEmpty(ranges: [(Self.start + 86_400, Self.start + 90_000)], symbolId: symbol, timeframe: .h1, provider: .massive)
                try db.connection.query("SELECT pg_terminate_backend($1::int)", [pid])
                try store.updateStatus(symbolId: symbol, timeframe: .h1, result: "inserted 6")
            }
            Issue.record("the chunk should fail once its backend is gone")
        } catch let error as PostgresError {
            guard case .connectionLost = error else { Issue.record("expected connectionLost, got \(error)"); return }
            #expect(error.localizedDescription.contains("Nothing from the unfinished transaction was written"))
        }
        #expect(try db.barCount() == 0)
        #expect(try db.connection.query("SELECT count(*) FROM barfill.empty_ranges").scalar() == "0")
        #expect(try db.connection.query("SELECT count(*) FROM barfill.backfill_status").scalar() == "0")
    }

    @Test(.requiresPooler, arguments: schemas)
    func upsertWorksThroughATransactionModePooler(_ schema: TestDatabase.Schema) throws {
        let db = try TestDatabase.fresh(schema: schema)
        let symbol = try db.insertSymbol("AAPL")
        let pooled = try #require(try db.connectThroughPooler())
        let store = try BarStore(connection: pooled)
        // Several transactions in a row: each may land on a different server connection, and the
        // temp table of one must not be needed (or found) by the next.
        for round in 0..<4 {
            let counts = try store.upsert(bars: Self.hours(0..<(round + 3)), symbolId: symbol, timeframe: .h1, provider: .massive)
            #expect(counts == UpsertCounts(inserted: round == 0 ? 3 : 1, unchanged: round == 0 ? 0 : round + 2))
        }
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == Self.hours(0..<6).map(\.ts))
    }
}
