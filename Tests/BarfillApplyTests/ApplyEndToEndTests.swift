import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// The product as a user runs it: `barfill gaps` writes a plan, `barfill apply` fills it against the
/// simulated provider, and the next `barfill gaps` finds nothing left to do.
@Suite(.serialized, .requiresPostgres)
struct ApplyEndToEndTests {
    static let window = ["--from", "2024-03-01", "--until", "2024-04-01"]

    struct World {
        let fixture: ApplyFixture
        var binary: BarfillBinary
        var planPath: String { fixture.directory.appendingPathComponent("plans/nightly.json").path }

        func run(_ arguments: [String]) async throws -> BarfillBinary.Run {
            try await binary.run(arguments, directory: fixture.directory)
        }

        func gaps(_ extra: [String] = []) async throws -> BarfillBinary.Run {
            try await run(["gaps", "--symbols", "AAPL,QUIET", "--timeframes", "h1,d1", "--provider", "massive",
                           "--output", planPath] + ApplyEndToEndTests.window + extra)
        }

        func apply(_ extra: [String] = []) async throws -> BarfillBinary.Run {
            try await run(["apply", planPath, "--checkpoint", fixture.checkpointPath, "--rate", "massive=6000/min"] + extra)
        }
    }

    static func world() throws -> World {
        let fixture = try ApplyFixture(simulator: SimulatedProvider.Configuration(illiquidTickers: ["QUIET"]))
        // Holes of every shape inside the window; QUIET also lacks the slots nobody traded in.
        try fixture.seed("AAPL", .h1, holes: [3..<4, 10..<14, 24..<30, 114..<119])
        let aaplD1 = try fixture.database.connection.query("SELECT id::text FROM symbols WHERE ticker = 'AAPL'").string(0, 0)!
        let grid = ApplyFixture.grid(.d1)
        let days = ApplyFixture.ordinals(.d1)
        let d1Bars = days.filter { ![2, 3, 9].contains($0 - days.lowerBound) }.compactMap {
            SimulatedBars.bar(ticker: "AAPL", key: grid.slot(at: $0).start, illiquid: false, intraday: false)?.bar
        }
        try fixture.database.insertBars(d1Bars, symbolId: aaplD1, timeframe: .d1)
        try fixture.seed("QUIET", .h1, holes: [40..<52], illiquid: true)
        // barfill writes into an existing directory only (a missing one is `cannot write PATH`, exit 1).
        try FileManager.default.createDirectory(at: fixture.directory.appendingPathComponent("plans"),
                                                withIntermediateDirectories: true)
        return World(fixture: fixture, binary: try fixture.binary())
    }

    @Test func gapsWritesAPlanAReviewerAndGitHubActionsCanRead() async throws {
        var world = try Self.world()
        let summary = world.fixture.directory.appendingPathComponent("step-summary.md")
        world.binary.environment["GITHUB_STEP_SUMMARY"] = summary.path
        world.binary.environment["GITHUB_ACTIONS"] = "true"
        let scan = try await world.gaps(["--format", "markdown"])
        // Without --detailed-exitcode, finding gaps is success.
        #expect(scan.status == 0, "\(scan.stderr)")
        let plan = try Plan(decoding: Array(Data(contentsOf: URL(fileURLWithPath: world.planPath))))
        #expect(!plan.chunks.isEmpty)
        // The markdown goes to standard output (for a pull request body) and to the job summary;
        // the plan itself went to --output only.
        #expect(scan.stdout == plan.markdownSummary() || scan.stdout == plan.markdownSummary() + "\n")
        #expect(!scan.stdout.contains("\"chunks\""))
        #expect(try String(contentsOf: summary, encoding: .utf8).contains(plan.markdownSummary()))
        for chunk in plan.chunks { #expect(scan.stdout.contains(chunk.symbol.value)) }
    }

    @Test func gapsRefusesAHostileTickerBeforeTouchingAnything() async throws {
        let world = try Self.world()
        for ticker in ["AAPL;DROP TABLE symbols", "../etc", "A B", "AAPL%2F"] {
            let run = try await world.run(["gaps", "--symbols", ticker, "--output", world.planPath] + Self.window)
            #expect(run.status == 64, "\(ticker): \(run.stderr)")
            #expect(run.stderr.contains("is not a ticker"))
        }
        #expect(!FileManager.default.fileExists(atPath: world.planPath))
        #expect(try world.fixture.database.connection.query("SELECT count(*) FROM symbols").int(0, 0) == 2)
    }

    @Test func holesToPlanToApplyLeaveNoGapAndNoDuplicateAndAReRunIsANoOp() async throws {
        let world = try Self.world()
        let scan = try await world.gaps(["--detailed-exitcode"])
        #expect(scan.status == 2, "\(scan.stderr)")
        let plan = try Plan(decoding: Array(Data(contentsOf: URL(fileURLWithPath: world.planPath))))
        #expect(plan.summary.missingBars > 16 + 3 + 12)   // QUIET's untraded slots are gaps too, until confirmed

        let apply = try await world.apply()
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(!apply.stderr.contains("stale plan"))

        let rescan = try await world.gaps(["--detailed-exitcode"])
        #expect(rescan.status == 0, "incremental rescan found gaps: \(rescan.stderr)")
        let full = try await world.gaps(["--detailed-exitcode", "--full"])
        #expect(full.status == 0, "full rescan found gaps: \(full.stderr)")
        let after = try Plan(decoding: Array(Data(contentsOf: URL(fileURLWithPath: world.planPath))))
        #expect(after.chunks.isEmpty)

        let duplicates = try world.fixture.database.connection.query("""
            SELECT count(*) FROM (SELECT 1 FROM ohlc_bars GROUP BY symbol_id, timeframe, ts HAVING count(*) > 1) d
            """).int(0, 0)
        #expect(duplicates == 0)
        let ledger = try world.fixture.database.connection.query("SELECT count(*) FROM barfill.empty_ranges").int(0, 0) ?? 0
        #expect(ledger > 0)

        // The first plan again: every chunk finished, no request, exit 0.
        try Data(plan.encoded()).write(to: URL(fileURLWithPath: world.planPath))
        let requests = world.fixture.requests().count
        let again = try await world.apply()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(world.fixture.requests().count == requests)
    }

    @Test func aStalePlanWarnsAndWithStrictIsRefused() async throws {
        let world = try Self.world()
        #expect(try await world.gaps().status == 0)
        // Someone fills one hole by hand after the plan was made.
        let id = try world.fixture.database.connection.query("SELECT id::text FROM symbols WHERE ticker = 'AAPL'").string(0, 0)!
        let slot = ApplyFixture.grid(.h1).slot(at: ApplyFixture.ordinals(.h1).lowerBound + 3)
        try world.fixture.database.insertBars([Bar(ts: slot.start, open: 1, high: 1, low: 1, close: 1, volume: 1)],
                                              symbolId: id, timeframe: .h1)

        let strict = try await world.apply(["--strict"])
        #expect(strict.status == 65)
        #expect(strict.stderr.contains("stale plan"))
        #expect(strict.stderr.contains("AAPL h1"))
        #expect(world.fixture.requests().isEmpty)

        let lenient = try await world.apply()
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.stderr.contains("warning: stale plan"))
        #expect(try await world.gaps(["--detailed-exitcode", "--full"]).status == 0)
    }
}
