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
import BarfillSimulator
#endif

/// `barfill apply` killed with SIGKILL at random moments and resumed each time ends with the same
/// table as a run left alone: nothing lost, nothing duplicated, no chunk fetched more than twice.
@Suite(.serialized, .requiresPostgres)
struct CrashSafetyTests {
    /// Enough chunks that 24 kills fit even when each run finishes several chunks before its kill.
    static let tickers = ["AAPL", "MSFT", "IBM", "KO", "PEP", "XOM", "CVX", "JPM", "BAC", "WMT", "T", "QUIET"]
    /// Twenty holes per series, one chunk each: 240 chunks.
    static let holes: [Range<Int>] = (0..<20).map { ($0 * 6 + 1)..<($0 * 6 + 3) }
    static let kills = 24
    /// The simulator has no limit here; pacing at the free tier's 5/min would make each run minutes long.
    static let unpaced = ["--rate", "massive=100000/min"]

    static func prepare() throws -> (ApplyFixture, BarfillBinary, String, [String: String]) {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(illiquidTickers: ["QUIET"]))
        var ids: [String: String] = [:]
        for ticker in tickers { ids[ticker] = try fixture.seed(ticker, .h1, holes: holes, illiquid: ticker == "QUIET") }
        let plan = fixture.plan(tickers.map { ($0, Timeframe.h1, holes) })
        return (fixture, try fixture.binary(), try fixture.write(plan), ids)
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

    /// Counts the chunks the checkpoint has finished, through one connection kept open beside the
    /// runs (WAL lets it read while they write). A read that fails (tables not created yet, a busy
    /// moment) answers the last count seen rather than zero.
    final class FinishedChunks {
        let path: String
        private var database: SQLiteDatabase?
        private var last = 0

        init(path: String) { self.path = path }

        func count() -> Int {
            if database == nil, FileManager.default.fileExists(atPath: path) {
                database = try? SQLiteDatabase(path: path, busyTimeout: 2_000)
            }
            guard let database,
                  let statement = try? database.prepare("SELECT count(*) FROM chunks WHERE status IN ('done', 'skipped')"),
                  (try? statement.step()) == true else { return last }
            last = Int(statement.int64(at: 0))
            return last
        }
    }

    struct Trials: Sendable {
        var killed = 0
        var finishedNaturally = false
        var problems: [String] = []
    }

    /// Starts the binary again and again, each time letting it finish at least one chunk (the one a
    /// previous kill interrupted, if any, so no chunk is interrupted twice) and then SIGKILLing it a
    /// random 0–30 ms later. Runs on its own thread with plain sleeps: other suites' blocking work on
    /// the cooperative pool must not stretch "30 ms" into seconds.
    static func killRepeatedly(binary: BarfillBinary, arguments: [String], directory: URL, checkpoint: String) throws -> Trials {
        var trials = Trials()
        var generator = SystemRandomNumberGenerator()
        let finished = FinishedChunks(path: checkpoint)
        for _ in 0..<200 where trials.killed < kills {
            let finishedBefore = finished.count()
            let (process, _, _) = try binary.start(arguments, directory: directory)
            let giveUp = Date().addingTimeInterval(60)
            while process.isRunning && finished.count() <= finishedBefore {
                if Date() > giveUp {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    trials.problems.append("a run finished no chunk in 60 s")
                    return trials
                }
                usleep(1_000)
            }
            usleep(UInt32.random(in: 0...30_000, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                if process.terminationReason != .uncaughtSignal { trials.problems.append("a killed run exited by itself") }
                trials.killed += 1
            } else {
                process.waitUntilExit()
                if process.terminationStatus != 0 { trials.problems.append("a run exited \(process.terminationStatus)") }
                trials.finishedNaturally = true
                break
            }
        }
        return trials
    }

    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    @Test func killedAtRandomMomentsAndResumedItEndsLikeARunLeftAlone() async throws {
        // The reference: the same data, applied once without interruption.
        let (clean, cleanBinary, cleanPlan, _) = try Self.prepare()
        let reference = try await cleanBinary.run(["apply", cleanPlan, "--checkpoint", clean.checkpointPath] + Self.unpaced,
                                                  directory: clean.directory)
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try Self.contents(of: clean.database)

        let (fixture, binary, planPath, _) = try Self.prepare()
        let arguments = ["apply", planPath, "--checkpoint", fixture.checkpointPath] + Self.unpaced
        let trials = try await Self.onOwnThread {
            try Self.killRepeatedly(binary: binary, arguments: arguments, directory: fixture.directory,
                                    checkpoint: fixture.checkpointPath)
        }
        for problem in trials.problems { Issue.record(Comment(rawValue: problem)) }
        let killed = trials.killed
        let finishedNaturally = trials.finishedNaturally
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
