import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

@Suite(.serialized, .requiresPostgres)
struct ApplyRunnerTests {
    /// A single slot, a run across an overnight, a whole session and the Good Friday weekend (h1: 6 slots a day).
    static let h1Holes: [Range<Int>] = [3..<4, 10..<14, 24..<30, 114..<120]

    @Test func fillsEveryHoleWithoutDuplicatesAndAReRunIsANoOp() async throws {
        let fixture = try ApplyFixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.h1Holes)
        let plan = fixture.plan([("AAPL", .h1, Self.h1Holes)])
        let expected = ApplyFixture.ordinals(.h1).map { ApplyFixture.grid(.h1).slot(at: $0).start }

        let report = try await fixture.apply(plan)
        #expect(report.outcome == .complete)
        #expect(report.chunks.map(\.status) == [.done, .done, .done, .done])
        #expect(report.totals.inserted == Self.h1Holes.reduce(0) { $0 + $1.count })
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1) == expected)
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == counts.distinct)
        // Massive answers extended hours too: counted as off-grid, never stored.
        #expect(report.totals.offGrid > 0)
        let requests = fixture.requests().count
        #expect(requests == plan.chunks.count)

        // Same plan, same checkpoint: nothing to do, nothing asked.
        let again = try await fixture.apply(plan)
        #expect(again.outcome == .complete)
        #expect(again.alreadyFinished == plan.chunks.count)
        #expect(again.chunks.isEmpty)
        #expect(fixture.requests().count == requests)

        // A fresh checkpoint: every chunk's precheck finds it filled, still without a request.
        try FileManager.default.removeItem(atPath: fixture.checkpointPath)
        let fresh = try await fixture.apply(plan)
        #expect(fresh.outcome == .complete)
        #expect(fresh.chunks.map(\.status) == [.skipped, .skipped, .skipped, .skipped])
        #expect(fixture.requests().count == requests)
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1) == expected)
    }

    @Test func aFinnhubPlanFillsTheSameWayWithDailyBarsOnTheGridsKey() async throws {
        let fixture = try ApplyFixture()
        let h1 = try fixture.seed("AAPL", .h1, holes: Self.h1Holes)
        let d1 = try fixture.database.connection.query("SELECT id::text FROM symbols WHERE ticker = 'AAPL'").string(0, 0)!
        let grid = ApplyFixture.grid(.d1)
        let days = ApplyFixture.ordinals(.d1)
        try fixture.database.insertBars(days.filter { ![4, 5, 12].contains($0 - days.lowerBound) }.compactMap {
            SimulatedBars.bar(ticker: "AAPL", key: grid.slot(at: $0).start, illiquid: false, intraday: false)?.bar
        }, symbolId: d1, timeframe: .d1)
        let plan = fixture.plan([("AAPL", .h1, Self.h1Holes), ("AAPL", .d1, [4..<6, 12..<13])], provider: .finnhub)
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .complete)
        #expect(report.chunks.allSatisfy { $0.status == .done })
        #expect(try fixture.database.barTimes(symbolId: h1, timeframe: .h1).count == ApplyFixture.ordinals(.h1).count)
        #expect(try fixture.database.barTimes(symbolId: d1, timeframe: .d1) == days.map { grid.slot(at: $0).start })
        #expect(fixture.requests().allSatisfy { $0.api == .finnhub })
    }

    @Test func worksThroughATransactionModePooler() async throws {
        let fixture = try ApplyFixture()
        guard let pooler = fixture.database.poolerURL else {
            Issue.record("scripts/with-postgres did not start pgbouncer, so BARFILL_TEST_POOLER_URL is unset")
            return
        }
        let id = try fixture.seed("AAPL", .h1, holes: Self.h1Holes)
        let plan = fixture.plan([("AAPL", .h1, Self.h1Holes)])
        let report = try await fixture.apply(plan, options: ApplyOptions(concurrency: 2), databaseURL: pooler)
        #expect(report.outcome == .complete)
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    @Test func slotsTheProviderAnswersEmptyGoToTheLedgerAndAreNotFetchedAgain() async throws {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(illiquidTickers: ["QUIET"]))
        let holes: [Range<Int>] = [20..<60]
        let id = try fixture.seed("QUIET", .h1, holes: holes, illiquid: true)
        let plan = fixture.plan([("QUIET", .h1, holes)])
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .complete)
        let chunk = try #require(report.chunks.first)
        #expect(chunk.counts.confirmedEmpty > 0)
        #expect(chunk.counts.inserted + chunk.counts.confirmedEmpty == 40)
        let ledger = try BarStore(connection: fixture.database.connection).emptyRanges(symbolId: id, timeframe: .h1)
        let grid = ApplyFixture.grid(.h1)
        let ledgered = ApplyFixture.ordinals(.h1).filter { ordinal in
            let start = grid.slot(at: ordinal).start
            return ledger.contains { $0.from <= start && start < $0.to }
        }
        #expect(ledgered.count == chunk.counts.confirmedEmpty)

        try FileManager.default.removeItem(atPath: fixture.checkpointPath)
        let before = fixture.requests().count
        let again = try await fixture.apply(plan)
        #expect(again.chunks.map(\.status) == [.skipped])
        #expect(fixture.requests().count == before)
    }

    @Test func overwriteUpdatesOnlyRowsThatDiffer() async throws {
        let fixture = try ApplyFixture()
        let id = try fixture.seed("MSFT", .d1, holes: [5..<8])
        try fixture.database.connection.query("""
            UPDATE ohlc_bars SET close = close + 1 WHERE symbol_id = $1::uuid
              AND ts = (SELECT min(ts) FROM ohlc_bars WHERE symbol_id = $1::uuid AND ts > $2::timestamptz)
            """, [id, Timestamp(ApplyFixture.grid(.d1).slot(at: ApplyFixture.ordinals(.d1).lowerBound + 8).start - 1)])
        // A chunk window wider than its hole re-fetches present bars (the planner merges nearby gaps).
        var plan = fixture.plan([("MSFT", .d1, [5..<8])])
        let grid = ApplyFixture.grid(.d1)
        let first = ApplyFixture.ordinals(.d1).lowerBound
        let gap = plan.chunks[0].gaps[0]
        plan = Plan(createdAt: plan.createdAt, calendar: plan.calendar, window: plan.window, source: plan.source,
                    series: plan.series,
                    chunks: [Plan.Chunk(symbol: Ticker("MSFT")!, timeframe: .d1, provider: .massive,
                                        from: grid.slot(at: first + 5).start, to: grid.slot(at: first + 10).end,
                                        requests: 1, gaps: [gap])])
        let report = try await fixture.apply(plan, options: ApplyOptions(overwrite: true))
        #expect(report.outcome == .complete)
        #expect(report.totals.inserted == 3)
        #expect(report.totals.updated == 1)
        #expect(report.totals.unchanged == 2)
        let counts = try fixture.rowCounts(id, .d1)
        #expect(counts.rows == counts.distinct)
    }

    @Test func chunksDeletedFromAReviewedPlanLeaveTheRestToApply() async throws {
        let fixture = try ApplyFixture()
        let id = try fixture.seed("IBM", .h1, holes: Self.h1Holes)
        let full = fixture.plan([("IBM", .h1, Self.h1Holes)])
        // Round trip through the file format, with the second chunk deleted by a reviewer.
        var json = try #require(try JSONSerialization.jsonObject(with: Data(full.encoded())) as? [String: Any])
        var chunks = try #require(json["chunks"] as? [[String: Any]])
        let deleted = chunks.remove(at: 1)
        json["chunks"] = chunks
        let edited = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        let plan = try Plan(decoding: Array(edited))
        #expect(plan.chunks.count == 3)

        let report = try await fixture.apply(plan)
        #expect(report.outcome == .complete)
        #expect(report.chunks.count == 3)
        let times = Set(try fixture.database.barTimes(symbolId: id, timeframe: .h1))
        let grid = ApplyFixture.grid(.h1)
        let all = ApplyFixture.ordinals(.h1)
        let stillMissing = all.filter { !times.contains(grid.slot(at: $0).start) }
        #expect(stillMissing.map { $0 - all.lowerBound } == Array(Self.h1Holes[1]))
        #expect(deleted["id"] as? String == full.chunks[1].id)
    }

    @Test func anUnknownSymbolFailsItsChunkAndTheRestStillApply() async throws {
        let fixture = try ApplyFixture()
        try fixture.seed("AAPL", .d1, holes: [2..<4])
        let plan = fixture.plan([("AAPL", .d1, [2..<4]), ("NOPE", .d1, [2..<4])])
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .failed(chunks: 1))
        let failed = try #require(report.failed.first)
        #expect(failed.symbol == "NOPE")
        #expect(failed.message?.contains("not in the symbols table") == true)
        #expect(report.chunks.first { $0.symbol == "AAPL" }?.status == .done)
    }

    @Test func aStopRequestFinishesTheChunkInFlightAndTheNextRunResumes() async throws {
        let fixture = try ApplyFixture()
        // The first answer takes 1.5 s: the stop is sent as soon as the request arrives, so it surely
        // lands while the answer is on its way.
        fixture.simulator.inject([.slow(1.5)])
        let id = try fixture.seed("AAPL", .h1, holes: Self.h1Holes)
        let plan = fixture.plan([("AAPL", .h1, Self.h1Holes)])
        let control = ApplyControl()
        async let run = fixture.apply(plan, control: control)
        // The simulator logs a request when it arrives (its slow answer goes out later): wait for that.
        try await waitFor("the first request to reach the simulator") { !fixture.requests().isEmpty }
        control.requestStop()
        let stopped = try await run
        #expect(stopped.outcome == .stopped(.signal))
        // The chunk in flight finished and was recorded; no other one started.
        #expect(stopped.chunks.count == 1)
        #expect(stopped.chunks.first?.status == .done)
        #expect(fixture.requests().count == 1)
        let seeded = ApplyFixture.ordinals(.h1).count - Self.h1Holes.reduce(0) { $0 + $1.count }
        let afterStop = try fixture.database.barTimes(symbolId: id, timeframe: .h1).count
        #expect(Self.h1Holes.contains { seeded + $0.count == afterStop }, "one chunk's bars written: \(afterStop - seeded)")
        let resumed = try await fixture.apply(plan)
        #expect(resumed.outcome == .complete)
        #expect(resumed.alreadyFinished == 1)
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1).count == ApplyFixture.ordinals(.h1).count)
    }

    @Test func concurrentWorkersShareTheLimiterAndFillEverything() async throws {
        // The provider allows 5 requests a minute, on a clock where a minute lasts 0.6 s; three workers
        // pacing themselves to 5/min each would send 15 and meet 429s: only a shared limiter meets none.
        let clock = ProviderClock(timeScale: 0.01)
        let limit = RateLimit(requests: 5, per: 60)
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            defaultPolicy: SimulatedProvider.KeyPolicy(massive: [limit]), clock: clock))
        var ids: [String: String] = [:]
        for ticker in ["AAA", "BBB", "CCC"] { ids[ticker] = try fixture.seed(ticker, .h1, holes: Self.h1Holes) }
        let plan = fixture.plan(["AAA", "BBB", "CCC"].map { ($0, Timeframe.h1, Self.h1Holes) })
        let report = try await fixture.apply(plan, options: ApplyOptions(concurrency: 3), limits: [limit])
        #expect(report.outcome == .complete)
        #expect(report.chunks.count == 12)
        #expect(fixture.requests().count == 12)
        #expect(fixture.requests(status: 429).isEmpty)
        // No 60 s window of the provider's log holds more than 5 requests.
        let times = fixture.requests().map(\.at).sorted()
        for (i, start) in times.enumerated() {
            #expect(times[i...].prefix { $0 < start + 60 }.count <= 5, "more than 5 requests in the minute from \(start)")
        }
        for id in ids.values {
            let counts = try fixture.rowCounts(id, .h1)
            #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
            #expect(counts.rows == counts.distinct)
        }
    }
}

/// Polls `condition` until it holds: tests wait for an event (a log line, a checkpoint row), never
/// for a fixed time. The 60 s bound only keeps a broken run from hanging the suite.
func waitFor(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) async throws {
    let start = Date()
    while try !condition() {
        guard Date().timeIntervalSince(start) < timeout else {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        try await Task.sleep(nanoseconds: 5_000_000)
    }
}
