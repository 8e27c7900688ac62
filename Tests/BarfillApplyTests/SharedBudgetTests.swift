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

/// Four `barfill apply --shard I/4` processes, each with its own checkpoint, sharing one key against
/// a provider that allows 5 requests per (scaled) minute: the budget in PostgreSQL keeps all of them
/// together under the limit, and their shards together fill what one unsharded run fills.
@Suite(.serialized, .requiresPostgres)
struct SharedBudgetTests {
    static let tickers = ["AAPL", "MSFT", "IBM", "KO", "PEP", "XOM", "CVX", "JPM"]
    /// Three one-slot holes per series, one request each: 24 requests, about five scaled minutes.
    static let holes: [Range<Int>] = [2..<3, 20..<21, 40..<41]
    /// A provider minute lasts 0.6 s; both sides anchor at the scaled epoch, as `--time-scale` does.
    static let clock = ProviderClock(timeScale: 0.01, anchor: ProviderClock.scaledEpoch)
    static let freeTier = [RateLimit(requests: 5, per: 60)]
    static let paced = ["--rate", "massive=5/min", "--time-scale", "0.01"]

    struct Setup {
        let fixture: ApplyFixture
        let binary: BarfillBinary
        let plan: Plan
        let planPath: String
    }

    static func prepare(_ simulator: SimulatedProvider.Configuration) throws -> Setup {
        let fixture = try ApplyFixture(simulator: simulator)
        for ticker in tickers { try fixture.seed(ticker, .h1, holes: holes) }
        let plan = fixture.plan(tickers.map { ($0, Timeframe.h1, holes) })
        return Setup(fixture: fixture, binary: try fixture.binary(), plan: plan, planPath: try fixture.write(plan))
    }

    static func limited(latency: Double = 0) -> SimulatedProvider.Configuration {
        var configuration = SimulatedProvider.Configuration(defaultPolicy: SimulatedProvider.KeyPolicy(massive: freeTier),
                                                            clock: clock)
        configuration.latency = latency
        return configuration
    }

    /// The table after one unsharded, unpaced run of the same plan on a fresh database.
    static func reference() async throws -> [String] {
        let clean = try prepare(SimulatedProvider.Configuration())
        let run = try await clean.binary.run(["apply", clean.planPath, "--rate", "massive=100000/min"],
                                             directory: clean.fixture.directory)
        #expect(run.status == 0, "\(run.stderr)")
        return try CrashSafetyTests.contents(of: clean.fixture.database)
    }

    /// Answered requests never more than 5 in any 60 nominal seconds, as the provider counts them.
    static func expectWithinTheLimit(_ fixture: ApplyFixture) {
        let times = fixture.requests(status: 200).map(\.at).sorted()
        for (earlier, later) in zip(times, times.dropFirst(5)) {
            #expect(later - earlier >= 60, "6 requests within \(later - earlier) nominal seconds")
        }
    }

    static func wait(_ process: Process, stderr: URL) async throws -> (Int32, String) {
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        return (process.terminationStatus, (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }

    @Test func fourShardsSharingOneKeyMeetNo429AndTogetherFillWhatOneRunFills() async throws {
        let expected = try await Self.reference()
        let setup = try Self.prepare(Self.limited())
        let processes = try (1...4).map { i in
            try setup.binary.start(["apply", setup.planPath, "--shard", "\(i)/4"] + Self.paced,
                                   directory: setup.fixture.directory)
        }
        for (i, (process, _, stderr)) in processes.enumerated() {
            let (status, text) = try await Self.wait(process, stderr: stderr)
            #expect(status == 0, "shard \(i + 1)/4 exited \(status): \(text)")
        }
        #expect(setup.fixture.requests(status: 429).isEmpty)
        #expect(setup.fixture.requests().count == Self.tickers.count * Self.holes.count)
        Self.expectWithinTheLimit(setup.fixture)
        for i in 1...4 {
            let path = setup.fixture.directory.appendingPathComponent(".barfill/checkpoint-shard-\(i)-of-4.sqlite").path
            #expect(FileManager.default.fileExists(atPath: path), "shard \(i) has no checkpoint of its own")
        }
        #expect(try CrashSafetyTests.contents(of: setup.fixture.database) == expected)
    }

    @Test func aShardKilledMidRequestHasItsRequestCountedAndResumesWithoutDuplicates() async throws {
        let expected = try await Self.reference()
        // Every answer takes 30 provider seconds (0.3 s), so a process is mostly waiting for one.
        let setup = try Self.prepare(Self.limited(latency: 30))
        let fixture = setup.fixture
        let victim = Set(Shard(index: 1, count: 4)!.chunks(of: setup.plan.chunks).map(\.symbol.value))
        try #require(!victim.isEmpty)
        var processes = try (1...4).map { i in
            try setup.binary.start(["apply", setup.planPath, "--shard", "\(i)/4"] + Self.paced, directory: fixture.directory)
        }
        let victimID = processes[0].0.processIdentifier
        // SIGKILL shard 1 as soon as the provider has one of its requests, before the answer leaves.
        let killed: String = try await CrashSafetyTests.onOwnThread {
            let giveUp = Date().addingTimeInterval(60)
            while Date() < giveUp {
                if let entry = fixture.requests().first(where: { entry in victim.contains { entry.path.contains("/ticker/\($0)/") } }) {
                    kill(victimID, SIGKILL)
                    return entry.path
                }
                usleep(500)
            }
            return ""
        }
        try #require(!killed.isEmpty, "shard 1 sent no request in 60 s")
        processes[0].0.waitUntilExit()
        #expect(processes[0].0.terminationReason == .uncaughtSignal)
        // Its grant is in the shared log, unanswered: held as in flight for the transport timeout in the
        // provider clock (120 provider seconds, 1.2 s here), then counted for its window; the others
        // count it all along (the limit check below). Afterwards it is pruned like any old request.
        let unanswered = try fixture.database.connection.query(
            "SELECT count(*) FROM barfill.provider_requests WHERE answered_at IS NULL").int(0, 0)
        #expect((unanswered ?? 0) >= 1)
        for (i, (process, _, stderr)) in processes.enumerated().dropFirst() {
            let (status, text) = try await Self.wait(process, stderr: stderr)
            #expect(status == 0, "shard \(i + 1)/4 exited \(status): \(text)")
        }

        processes[0] = try setup.binary.start(["apply", setup.planPath, "--shard", "1/4"] + Self.paced,
                                              directory: fixture.directory)
        let (status, text) = try await Self.wait(processes[0].0, stderr: processes[0].2)
        #expect(status == 0, "the resumed shard exited \(status): \(text)")

        #expect(fixture.requests(status: 429).isEmpty)
        Self.expectWithinTheLimit(fixture)
        var fetches: [String: Int] = [:]
        for entry in fixture.requests() { fetches[entry.path, default: 0] += 1 }
        #expect(fetches.count == Self.tickers.count * Self.holes.count)
        #expect(fetches.values.max() ?? 0 <= 2, "a chunk was fetched \(fetches.values.max() ?? 0) times")
        #expect(fetches[killed] == 2, "the interrupted chunk is fetched again on resume")
        let duplicates = try fixture.database.connection.query("""
            SELECT count(*) FROM (SELECT 1 FROM ohlc_bars GROUP BY symbol_id, timeframe, ts HAVING count(*) > 1) d
            """).int(0, 0)
        #expect(duplicates == 0)
        #expect(try CrashSafetyTests.contents(of: fixture.database) == expected)
    }

    /// One fixture for the whole table: a usage error touches neither the database nor the provider.
    @Test func aShardThatIsNotIOverNIsAUsageError() async throws {
        let setup = try Self.prepare(SimulatedProvider.Configuration())
        let seeded = try setup.fixture.database.barCount()
        for shard in ["0/4", "5/4", "2", "a/b", "1/0"] {
            let run = try await setup.binary.run(["apply", setup.planPath, "--shard", shard], directory: setup.fixture.directory)
            #expect(run.status == 64, "--shard \(shard)")
            #expect(run.stderr.contains("--shard"), "--shard \(shard): \(run.stderr)")
        }
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.fixture.database.barCount() == seeded)
    }
}
