import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `barfill apply` killed with SIGKILL at random moments and resumed each time ends with the same
/// table as a run left alone: nothing lost, nothing duplicated, no chunk fetched more than twice.
@Suite(.serialized, .requiresPostgres)
struct CrashSafetyTests {
    static let tickers = ["AAPL", "MSFT", "IBM", "KO", "PEP", "QUIET"]
    /// Twenty holes per series, one chunk each: 120 chunks.
    static let holes: [Range<Int>] = (0..<20).map { ($0 * 6 + 1)..<($0 * 6 + 3) }
    static let kills = 24
    /// The simulator has no limit here; pacing at the free tier's 5/min would make each run minutes long.
    static let unpaced = ["--rate", "massive=100000/min"]

    static func prepare() throws -> (ApplyFixture, BarfillBinary, String, [String: String]) {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(illiquidTickers: ["QUIET"]))
        var ids: [String: String] = [:]
        for ticker in tickers { ids[ticker] = try fixture.seed(ticker, .h1, holes: holes, illiquid: ticker == "QUIET") }
        let plan = fixture.plan(tickers.map { ($0, Timeframe.h1, holes) })
        let planPath = fixture.directory.appendingPathComponent("plan.json").path
        try Data(plan.encoded()).write(to: URL(fileURLWithPath: planPath))
        let binary = try BarfillBinary(environment: [
            "DATABASE_URL": fixture.database.url, "MASSIVE_API_KEY": ApplyFixture.secret,
            "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL,
        ])
        return (fixture, binary, planPath, ids)
    }

    /// Every row of the table and the ledger, by ticker, in a form two databases can be compared in.
    static func contents(of database: TestDatabase) throws -> [String] {
        let bars = try database.connection.query("""
            SELECT s.ticker || ' ' || b.timeframe::text || ' ' || extract(epoch FROM b.ts)::bigint || ' ' ||
                   b.open || ' ' || b.high || ' ' || b.low || ' ' || b.close || ' ' || b.volume || ' ' || b.provider::text
            FROM ohlc_bars b JOIN symbols s ON s.id = b.symbol_id ORDER BY 1
            """)
        let ledger = try database.connection.query("""
            SELECT 'empty ' || s.ticker || ' ' || e.timeframe || ' ' || extract(epoch FROM e.from_ts)::bigint || ' ' ||
                   extract(epoch FROM e.to_ts)::bigint
            FROM barfill.empty_ranges e JOIN symbols s ON s.id = e.symbol_id ORDER BY 1
            """)
        return (0..<bars.rowCount).map { bars.string($0, 0)! } + (0..<ledger.rowCount).map { ledger.string($0, 0)! }
    }

    /// Chunks the checkpoint has finished (0 before the run created its tables).
    static func finishedChunks(_ path: String) -> Int {
        guard FileManager.default.fileExists(atPath: path),
              let db = try? SQLiteDatabase(path: path, busyTimeout: 100),
              let statement = try? db.prepare("SELECT count(*) FROM chunks WHERE status IN ('done', 'skipped')"),
              (try? statement.step()) == true else { return 0 }
        return Int(statement.int64(at: 0))
    }

    @Test func killedAtRandomMomentsAndResumedItEndsLikeARunLeftAlone() async throws {
        // The reference: the same data, applied once without interruption.
        let (clean, cleanBinary, cleanPlan, _) = try Self.prepare()
        let reference = try await cleanBinary.run(["apply", cleanPlan, "--checkpoint", clean.checkpointPath] + Self.unpaced,
                                                  directory: clean.directory)
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try Self.contents(of: clean.database)

        let (fixture, binary, planPath, _) = try Self.prepare()
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        var finishedNaturally = false
        for _ in 0..<200 where killed < Self.kills {
            let finishedBefore = Self.finishedChunks(fixture.checkpointPath)
            let (process, _, _) = try binary.start(["apply", planPath, "--checkpoint", fixture.checkpointPath] + Self.unpaced,
                                                   directory: fixture.directory)
            // Let this run finish at least one chunk (the one a previous kill interrupted, if any, so no
            // chunk is ever interrupted twice), then kill it a random moment later.
            let giveUp = Date().addingTimeInterval(60)
            while process.isRunning && Self.finishedChunks(fixture.checkpointPath) <= finishedBefore {
                if Date() > giveUp {
                    kill(process.processIdentifier, SIGKILL)
                    Issue.record("a run finished no chunk in 60 s")
                    return
                }
                try await Task.sleep(nanoseconds: 2_000_000)
            }
            try await Task.sleep(nanoseconds: UInt64.random(in: 0...30_000_000, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal)
                killed += 1
            } else {
                process.waitUntilExit()
                #expect(process.terminationStatus == 0)
                finishedNaturally = true
                break
            }
        }
        #expect(killed >= Self.kills || finishedNaturally)
        #expect(killed >= Self.kills, "the plan ran out before \(Self.kills) kills; give it more chunks")

        let last = try await binary.run(["apply", planPath, "--checkpoint", fixture.checkpointPath] + Self.unpaced,
                                        directory: fixture.directory)
        #expect(last.status == 0, "\(last.stderr)")

        #expect(try Self.contents(of: fixture.database) == expected)
        let duplicates = try fixture.database.connection.query("""
            SELECT count(*) FROM (SELECT 1 FROM ohlc_bars GROUP BY symbol_id, timeframe, ts HAVING count(*) > 1) d
            """).int(0, 0)
        #expect(duplicates == 0)
        var fetches: [String: Int] = [:]
        for entry in fixture.requests() { fetches[entry.path, default: 0] += 1 }
        #expect(fetches.count == Self.tickers.count * Self.holes.count)
        #expect(fetches.values.max() ?? 0 <= 2, "a chunk was fetched \(fetches.values.max() ?? 0) times")
    }
}
