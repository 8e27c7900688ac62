import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// Provider faults, an unreachable provider, the run's one request budget and a database that goes
/// away: what each leaves in the checkpoint and how the run ends.
@Suite(.serialized, .requiresPostgres)
struct ApplyFaultTests {
    static let holes: [Range<Int>] = [3..<4, 10..<14]

    @Test func aGarbledAnswerThenAGoodOneFinishesTheChunk() async throws {
        let fixture = try ApplyFixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        fixture.simulator.inject([.corrupt(.malformedJSON)])
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .complete)
        #expect(report.chunks.map(\.status) == [.done, .done])
        #expect(report.totals.requests == 3)
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    @Test func anAnswerThatStaysGarbledLeavesTheChunkPendingAndTheRunResumable() async throws {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .corrupt(.htmlPage))]))
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let before = try fixture.database.barTimes(symbolId: id, timeframe: .h1)
        let plan = fixture.plan([("AAPL", .h1, Self.holes)])
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .stopped(.transientFaults(chunks: 2)))
        #expect(report.chunks.map(\.status) == [.pending, .pending])
        #expect(report.failed.isEmpty)
        #expect(report.chunks.first?.message?.contains("cannot be read") == true)
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1) == before)
        let store = try CheckpointStore(path: fixture.checkpointPath)
        let progress = try store.progress(planKey: plan.contentHash)
        #expect(progress.values.allSatisfy { $0.status == .pending })
    }

    @Test func aPermanentFailureOutranksTransientFaults() async throws {
        let fixture = try ApplyFixture()
        try fixture.seed("AAPL", .h1, holes: Self.holes)
        let plan = fixture.plan([("AAPL", .h1, Self.holes), ("NOPE", .h1, [2..<3])])
        fixture.simulator.inject([.corrupt(.emptyBody), .corrupt(.emptyBody)])
        let report = try await fixture.apply(plan)
        #expect(report.outcome == .failed(chunks: 1))
        #expect(report.chunks.map(\.status) == [.pending, .done, .failed])
    }

    @Test func bothProvidersSpendOneRequestBudget() async throws {
        // Slow answers keep the first four requests in flight together.
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .slow(0.5))]))
        var chunks: [Plan.Chunk] = []
        var series: [Plan.Series] = []
        // Sorted by symbol, the chunks alternate between the providers.
        for (ticker, provider) in [("AAA", ProviderName.massive), ("BBB", .finnhub), ("CCC", .massive), ("DDD", .finnhub),
                                   ("EEE", .massive), ("FFF", .finnhub)] {
            try fixture.seed(ticker, .h1, holes: [3..<4])
            let part = fixture.plan([(ticker, .h1, [3..<4])], provider: provider)
            chunks += part.chunks
            series += part.series
        }
        let shape = fixture.plan([])
        let plan = Plan(createdAt: shape.createdAt, calendar: shape.calendar, window: shape.window, source: shape.source,
                        series: series, chunks: chunks)
        // Four workers start four chunks at once, two per provider: each provider's own budget of 3
        // would let all four requests out.
        let report = try await fixture.apply(plan, options: ApplyOptions(concurrency: 4, maxRequests: 3))
        #expect(report.outcome == .stopped(.requestBudget))
        #expect(fixture.requests().count == 3)
        #expect(report.totals.requests == 3)
        #expect(report.chunks.filter { $0.status == .done }.count == 3)
    }

    @Test func theDatabaseLostForAMomentIsReconnectedAndTheRunCompletes() async throws {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .slow(1.5))]))
        let id = try fixture.seed("AAPL", .h1, holes: [10..<14])
        let plan = fixture.plan([("AAPL", .h1, [10..<14])])
        let before = try fixture.database.barTimes(symbolId: id, timeframe: .h1)
        async let run = fixture.apply(plan)
        #expect(try await Self.terminateWorkers(fixture) >= 1)
        let report = try await run
        #expect(report.outcome == .complete)
        #expect(report.chunks.map(\.status) == [.done])
        let counts = try fixture.rowCounts(id, .h1)
        #expect(counts.rows == before.count + 4)
        #expect(counts.rows == counts.distinct)
    }

    @Test func theDatabaseStayingAwayEndsTheRunResumableWithNothingHalfWritten() async throws {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .slow(1.5))]))
        let id = try fixture.seed("AAPL", .h1, holes: [10..<14, 24..<30])
        let plan = fixture.plan([("AAPL", .h1, [10..<14, 24..<30])])
        let before = try fixture.database.barTimes(symbolId: id, timeframe: .h1)
        // On the server's own database: a database cannot refuse connections while one is connected to it.
        let admin = try PostgresConnection(url: TestDatabase.serverURL)
        async let run = fixture.apply(plan)
        // Once the first request is at the (slow) provider, every connection is open: new ones are
        // refused from here on, then the worker's connection is cut mid-chunk.
        for _ in 0..<500 where fixture.requests().isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        _ = try admin.query("ALTER DATABASE \(fixture.database.name) ALLOW_CONNECTIONS false")
        let killed = try await Self.terminateWorkers(fixture, admin: admin)
        let report = try await run
        _ = try admin.query("ALTER DATABASE \(fixture.database.name) ALLOW_CONNECTIONS true")
        #expect(killed >= 1)
        #expect(report.outcome == .stopped(.databaseLost))
        #expect(report.chunks.map(\.status) == [.pending])
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1) == before)

        let resumed = try await fixture.apply(plan)
        #expect(resumed.outcome == .complete)
        #expect(try fixture.database.barTimes(symbolId: id, timeframe: .h1).count == before.count + 10)
    }

    /// Terminates every client backend of the fixture's database but the fixture's own and the
    /// admin's, once one is there, while the worker waits for the slow provider; returns how many.
    static func terminateWorkers(_ fixture: ApplyFixture, admin given: PostgresConnection? = nil) async throws -> Int {
        let admin = try given ?? fixture.database.connect()
        let fixturePID = try fixture.database.connection.query("SELECT pg_backend_pid()").int(0, 0)!
        // While the fetch is in flight (the simulator answers after 1.5 s; the precheck is long done).
        for _ in 0..<500 where fixture.requests().isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        var killed = 0
        for _ in 0..<40 where killed == 0 {
            killed = try admin.query("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2::int AND backend_type = 'client backend'
                """, [fixture.database.name, fixturePID]).int(0, 0) ?? 0
            if killed == 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        return killed
    }
}
