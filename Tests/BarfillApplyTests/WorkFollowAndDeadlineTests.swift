@testable import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// A long `work --follow` keeps what it holds flat (one stop handler, the same two connections),
/// and `--deadline` stops `apply` and `work` the way a signal does: a statement still running at
/// the deadline is cancelled, its chunk is not marked done, the exit is 75 and the next run resumes.
@Suite(.serialized, .requiresPostgres)
struct WorkFollowAndDeadlineTests {
    static let unpaced = ["--rate", "massive=100000/min,finnhub=100000/min"]
    static let application = "barfill-follow-test"
    static let holes: [Range<Int>] = [3..<5, 30..<33]

    /// The fixture's database URL with an application name that marks this worker's connections.
    static func markedURL(_ db: TestDatabase) throws -> String {
        var components = try #require(URLComponents(string: db.url))
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "application_name", value: application)]
        return try #require(components.string)
    }

    /// The wiring `work` builds, against the fixture's simulator, without the shared budget's connection.
    static func wiring(_ fixture: ApplyFixture, databaseURL: String) -> WorkerWiring {
        var limiters: [ProviderName: RateLimiter] = [:]
        for provider in ProviderName.allCases {
            limiters[provider] = RateLimiter(provider: provider, key: ApplyFixture.key,
                                             limits: [RateLimit(requests: 100_000, per: 60)], clock: fixture.clock)
        }
        let simulator = fixture.simulator
        return WorkerWiring(databaseURL: databaseURL, limiters: limiters) { provider, limiter in
            let retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)
            switch provider {
            case .massive:
                return try MassiveClient(settings: try ProviderSettings(provider: .massive, baseURL: simulator.massiveBaseURL,
                                                                        key: ApplyFixture.key), limiter: limiter, retry: retry)
            case .finnhub:
                return try FinnhubClient(settings: try ProviderSettings(provider: .finnhub, baseURL: simulator.finnhubBaseURL,
                                                                        key: ApplyFixture.key), limiter: limiter, retry: retry)
            }
        }
    }

    /// The server processes of the marked connections, once only the kept ones are left (an apply
    /// run's own connections close when it ends; their backends may take a moment to go).
    static func markedBackends(_ db: TestDatabase, expecting count: Int) async throws -> Set<Int> {
        var pids: Set<Int> = []
        for _ in 0..<200 {
            let rows = try db.connection.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [application])
            pids = Set(try (0..<rows.rowCount).compactMap { try rows.int($0, 0) })
            if pids.count == count { return pids }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        return pids
    }

    @Test func aLongFollowRunKeepsOneStopHandlerAndTheSameTwoConnections() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let tickers = ["AAA", "BBB", "CCC", "DDD", "EEE"]
        for ticker in tickers { try fixture.seed(ticker, .h1, holes: Self.holes) }
        let control = ApplyControl()
        let store = try CheckpointStore(path: fixture.directory.appendingPathComponent("work.sqlite").path)
        let worker = RequestWorker(connections: Self.wiring(fixture, databaseURL: try Self.markedURL(db)), checkpoint: store,
                                   options: WorkOptions(leaseSeconds: 60), control: control)
        let queue = RequestQueue(connection: db.connection)
        var kept: Set<Int>?
        var handlers: [Int] = []
        // A poll that finds a request, then two that find none, per ticker: fifteen polls.
        for ticker in tickers {
            _ = try queue.enqueue(ticker: ticker, timeframes: ["h1"], from: ApplyFixture.window.from, until: ApplyFixture.window.until)
            for poll in 0..<3 {
                let report = try await worker.drain()
                #expect(report.stop == nil)
                #expect(report.outcomes.map(\.end) == (poll == 0 ? [.done] : []), "\(ticker) poll \(poll)")
                handlers.append(control.stopHandlerCount)
                let backends = try await Self.markedBackends(db, expecting: 2)
                #expect(backends.count == 2, "the queue and lease connections stay open between polls: \(backends)")
                if let kept { #expect(backends == kept, "the same connections, not new ones per poll") } else { kept = backends }
            }
        }
        #expect(handlers.allSatisfy { $0 == 1 }, "stop handlers after each poll: \(handlers)")
        #expect(try RequestQueueTests.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done'") == tickers.count)

        // A stop still reaches the request in flight through the one handler: the next drain claims nothing.
        _ = try queue.enqueue(ticker: "AAA", timeframes: ["d1"], from: ApplyFixture.window.from, until: ApplyFixture.window.until)
        control.requestStop(.signal)
        let stopped = try await worker.drain()
        #expect(stopped.stop == .signal && stopped.outcomes.isEmpty)
        #expect(try RequestQueueTests.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'queued'") == 1)
    }

    /// Through the binary: `work --follow` stopped by SIGINT or SIGTERM while a request's answer is on
    /// its way finishes that chunk, starts no other, gives the lease back and exits 0; `work --once`
    /// then finishes the request.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalStopsFollowAfterTheChunkInFlightAndExits0(_ signal: Int32) async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let symbol = try fixture.seed("AAPL", .h1, holes: Self.holes)
        _ = try RequestQueue(connection: db.connection).enqueue(ticker: "AAPL", timeframes: ["h1"], from: ApplyFixture.window.from,
                                                                until: ApplyFixture.window.until)
        fixture.simulator.inject([.slow(1.5)])   // the first answer only
        let binary = try fixture.binary()
        let checkpoint = fixture.directory.appendingPathComponent("work.sqlite").path
        let (process, _, err) = try binary.start(["work", "--follow", "--poll", "1s", "--checkpoint", checkpoint] + Self.unpaced,
                                                 directory: fixture.directory)
        // Signal when the simulator has the first request: its answer is then surely still on its way.
        try await waitFor("the first request to reach the simulator") { !fixture.requests().isEmpty || !process.isRunning }
        #expect(process.isRunning)
        kill(process.processIdentifier, signal)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(process.terminationReason == .exit, "ended by the signal itself, not by the stop it asks for")
        #expect(stderr.contains("work: signal received"), "\(stderr)")
        #expect(fixture.requests().count == 1, "a chunk started after the signal")
        #expect(try RequestQueueTests.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE lease_owner IS NOT NULL") == 0,
                "a lease was kept")
        let seeded = ApplyFixture.ordinals(.h1).count - Self.holes.reduce(0) { $0 + $1.count }
        let afterStop = try db.barTimes(symbolId: symbol, timeframe: .h1).count
        #expect(afterStop > seeded, "the chunk in flight was not written")

        let drained = try await binary.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(try RequestQueueTests.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done'") == 1)
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1).count == ApplyFixture.ordinals(.h1).count)
    }

    @Test func aConnectionLostBetweenPollsIsOpenedAgain() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        try fixture.seed("AAA", .h1, holes: Self.holes)
        let store = try CheckpointStore(path: fixture.directory.appendingPathComponent("work.sqlite").path)
        let worker = RequestWorker(connections: Self.wiring(fixture, databaseURL: try Self.markedURL(db)), checkpoint: store,
                                   options: WorkOptions(leaseSeconds: 60))
        _ = try await worker.drain()
        let before = try await Self.markedBackends(db, expecting: 2)
        try #require(before.count == 2)
        try db.connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [Self.application])
        _ = try RequestQueue(connection: db.connection).enqueue(ticker: "AAA", timeframes: ["h1"], from: ApplyFixture.window.from,
                                                                until: ApplyFixture.window.until)
        let report = try await worker.drain()
        #expect(report.outcomes.map(\.end) == [.done])
        // The queue's connection was opened again for the claim; the lease connection is opened
        // again on its next renewal (this request ended before one was due).
        let after = try await Self.markedBackends(db, expecting: 1)
        #expect(after.count == 1 && after.isDisjoint(with: before), "before \(before), after \(after)")
    }

    // MARK: --deadline cancels a running statement

    /// Holds `mode` on ohlc_bars in an open transaction until `release` is called.
    final class TableLock: @unchecked Sendable {
        let connection: PostgresConnection
        init(_ db: TestDatabase, mode: String) throws {
            connection = try db.connect()
            try connection.query("BEGIN")
            try connection.query("LOCK TABLE ohlc_bars IN \(mode) MODE")
        }
        func release() throws { try connection.query("ROLLBACK") }
    }

    /// Waits for `process` while `lock` is held; true when a barfill statement was seen waiting for
    /// the lock first. A process still running a minute later overran its deadline: the lock is let go.
    static func waitBehind(_ lock: TableLock, _ db: TestDatabase, process: Process) async throws -> Bool {
        var sawWaiting = false
        let giveUp = Date().addingTimeInterval(60)
        while process.isRunning, Date() < giveUp {
            let waiting = try db.connection.query("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """).int(0, 0) ?? 0
            if waiting > 0 { sawWaiting = true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        if process.isRunning {
            Issue.record("still running a minute after the deadline: the statement waiting for the lock was not cancelled")
            try lock.release()
            while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        return sawWaiting
    }

    @Test func aDeadlineCancelsApplysRunningUpsertAndTheChunkStaysPending() async throws {
        let fixture = try ApplyFixture()
        let symbol = try fixture.seed("AAPL", .h1, holes: [Self.holes[0]])
        let plan = fixture.plan([("AAPL", .h1, [Self.holes[0]])])
        let planPath = try fixture.write(plan)
        let reportPath = fixture.directory.appendingPathComponent("report.json").path
        let binary = try fixture.binary()
        let before = try fixture.database.barTimes(symbolId: symbol, timeframe: .h1)
        // Reads go on; the chunk's write waits for the lock until the deadline cancels it.
        let lock = try TableLock(fixture.database, mode: "EXCLUSIVE")
        let (process, _, err) = try binary.start(["apply", planPath, "--checkpoint", fixture.checkpointPath, "--deadline", "5s",
                                                  "--report", reportPath] + Self.unpaced, directory: fixture.directory)
        let sawWaiting = try await Self.waitBehind(lock, fixture.database, process: process)
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(sawWaiting, "the write never waited for the lock: \(stderr)")
        #expect(process.terminationStatus == 75, "\(stderr)")
        #expect(stderr.contains("deadline"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        #expect(report?["stop"] as? String == "deadline")
        let chunks = report?["chunks"] as? [[String: Any]] ?? []
        #expect(chunks.map { $0["status"] as? String } == ["pending"])
        try lock.release()
        #expect(try fixture.database.barTimes(symbolId: symbol, timeframe: .h1) == before, "nothing of the chunk was written")

        let resumed = try await binary.run(["apply", planPath, "--checkpoint", fixture.checkpointPath] + Self.unpaced,
                                           directory: fixture.directory)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try fixture.database.barTimes(symbolId: symbol, timeframe: .h1).count == before.count + Self.holes[0].count)
    }

    @Test func aDeadlineCancelsWorksRunningScanAndTheRequestGoesBackToTheQueue() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let symbol = try fixture.seed("AAPL", .h1, holes: Self.holes)
        _ = try RequestQueue(connection: db.connection).enqueue(ticker: "AAPL", timeframes: ["h1"], from: ApplyFixture.window.from,
                                                                until: ApplyFixture.window.until)
        let binary = try fixture.binary()
        let checkpoint = fixture.directory.appendingPathComponent("work.sqlite").path
        // Not even reads: the request's scan waits for the lock until the deadline cancels it.
        let lock = try TableLock(db, mode: "ACCESS EXCLUSIVE")
        let (process, _, err) = try binary.start(["work", "--once", "--checkpoint", checkpoint, "--deadline", "5s"] + Self.unpaced,
                                                 directory: fixture.directory)
        let sawWaiting = try await Self.waitBehind(lock, db, process: process)
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(sawWaiting, "the scan never waited for the lock: \(stderr)")
        #expect(process.terminationStatus == 75, "\(stderr)")
        #expect(stderr.contains("deadline"))
        try lock.release()
        #expect(try RequestQueueTests.count(db.connection, """
            SELECT count(*) FROM barfill.requests WHERE state = 'queued' AND lease_owner IS NULL AND attempts = 0
            """) == 1, "back in the queue, not failed or backed off")
        #expect(fixture.requests().isEmpty)

        let resumed = try await binary.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try RequestQueueTests.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done'") == 1)
        let grid = ApplyFixture.grid(.h1)
        let expected = ApplyFixture.ordinals(.h1).map { grid.slot(at: $0).start }
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == expected)
    }
}
