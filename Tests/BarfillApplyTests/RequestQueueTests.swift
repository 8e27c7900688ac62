import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import BarfillSimulator
#endif

/// Backfill on demand: the queue in PostgreSQL (migration 0003), its SQL functions, the
/// watchlist trigger, and `barfill work` draining it against the simulator.
@Suite(.serialized, .requiresPostgres)
struct RequestQueueTests {
    static let unpaced = ["--rate", "massive=100000/min,finnhub=100000/min"]

    /// Direct, and through the transaction-mode pooler when there is one.
    static func connections(_ database: TestDatabase) throws -> [(String, PostgresConnection)] {
        var all = [("direct", try database.connect())]
        if let pooled = try database.connectThroughPooler() { all.append(("pooler", pooled)) }
        return all
    }

    static func count(_ connection: PostgresConnection, _ sql: String, _ parameters: [(any PostgresParameter)?] = []) throws -> Int {
        try connection.query(sql, parameters).int(0, 0) ?? -1
    }

    static func binary(_ fixture: ApplyFixture, databaseURL: String? = nil, baseURL: String? = nil) throws -> BarfillBinary {
        try BarfillBinary(environment: [
            "DATABASE_URL": databaseURL ?? fixture.database.url, "MASSIVE_API_KEY": ApplyFixture.secret,
            "MASSIVE_BASE_URL": baseURL ?? fixture.simulator.massiveBaseURL,
        ])
    }

    // MARK: The SQL side

    @Test func aWatchlistInsertQueuesTheDefaultTimeframesInItsOwnTransaction() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        for (via, connection) in try Self.connections(database) {
            let ticker = via == "direct" ? "WLD" : "WLP"
            let symbol = try database.insertSymbol(ticker)
            let list = try database.connection.query("INSERT INTO watchlists (name) VALUES ($1) RETURNING id::text", [via]).scalar()!
            let insert = "INSERT INTO watchlist_items (watchlist_id, symbol_id) VALUES ($1::uuid, $2::uuid)"
            let open = "SELECT count(*) FROM barfill.requests r WHERE r.symbol_id = $1::uuid AND r.reason = 'watchlist'"

            try connection.query("BEGIN")
            try connection.query(insert, [list, symbol])
            #expect(try Self.count(connection, open, [symbol]) == 2, "\(via): visible inside the inserting transaction")
            try connection.query("ROLLBACK")
            #expect(try Self.count(database.connection, open, [symbol]) == 0, "\(via): a rolled-back insert leaves no request")

            try connection.transaction { try $0.query(insert, [list, symbol]) }
            let rows = try database.connection.query("""
                SELECT timeframe, state, window_from IS NULL AND window_until IS NULL FROM barfill.requests
                WHERE symbol_id = $1::uuid ORDER BY timeframe
                """, [symbol])
            #expect((0..<rows.rowCount).map { rows.string($0, 0)! } == ["d1", "h1"], "\(via)")
            #expect((0..<rows.rowCount).allSatisfy { rows.string($0, 1) == "queued" && rows.bool($0, 2) == true })
        }
    }

    @Test func migrateInstallsTheTriggerOnceWatchlistItemsAppearsAndStaysIdempotent() throws {
        let database = try TestDatabase.fresh(schema: .swiftBolt)
        let triggers = "SELECT count(*) FROM pg_trigger WHERE tgname = 'barfill_request_backfill'"
        try Migrator(connection: database.connection).migrate()
        #expect(try Self.count(database.connection, triggers) == 1)
        // The app's table goes away (and its trigger with it), then comes back.
        try database.connection.query("DROP TABLE watchlist_items")
        #expect(try Self.count(database.connection, triggers) == 0)

        try database.connection.execute(script: """
            CREATE TABLE watchlist_items (
                watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
                symbol_id uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
                added_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (watchlist_id, symbol_id))
            """)
        #expect(try Migrator(connection: database.connection).migrate().isEmpty, "nothing pending, yet the trigger step runs")
        try Migrator(connection: database.connection).migrate()
        #expect(try Self.count(database.connection, triggers) == 1)

        let symbol = try database.insertSymbol("LATE")
        try database.insertWatchlist("late", symbolIds: [symbol])
        #expect(try Self.count(database.connection, "SELECT count(*) FROM barfill.requests WHERE reason = 'watchlist'") == 2)
    }

    @Test func aSecondRequestForAnOpenSeriesWidensItAndRaisesItsPriority() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        for (via, connection) in try Self.connections(database) {
            let ticker = via == "direct" ? "DUPD" : "DUPP"
            try database.insertSymbol(ticker)
            let call = "SELECT request_id, created FROM barfill.request_backfill($1, '{d1}', $2, $3::timestamptz, $4::timestamptz)"
            let first = try connection.query(call, [ticker, "schedule", "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"])
            let second = try connection.query(call, [ticker, "chart", "2024-02-01T00:00:00Z", "2024-03-15T00:00:00Z"])
            let third = try connection.query(call, [ticker, "manual", "2024-03-05T00:00:00Z", "2024-05-01T00:00:00Z"])
            #expect(first.bool(0, 1) == true && second.bool(0, 1) == false && third.bool(0, 1) == false, "\(via)")
            #expect(first.string(0, 0) == second.string(0, 0) && second.string(0, 0) == third.string(0, 0))
            let row = try database.connection.query("""
                SELECT count(*), min(window_from)::text, max(window_until)::text, max(reason), max(priority)
                FROM barfill.requests r JOIN symbols s ON s.id = r.symbol_id WHERE s.ticker = $1
                """, [ticker])
            #expect(try row.int(0, 0) == 1, "\(via): one open request")
            #expect(row.string(0, 1) == "2024-02-01 00:00:00+00" && row.string(0, 2) == "2024-05-01 00:00:00+00", "\(via): the wider window")
            #expect(row.string(0, 3) == "chart" && row.string(0, 4) == "30", "\(via): a waiting person outranks the schedule")
        }
    }

    @Test func twoConcurrentCallersMakeOneRequest() async throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        try database.insertSymbol("RACE")
        let first = try database.connect()
        let second = try database.connect()
        try first.query("BEGIN")
        try first.query("SELECT * FROM barfill.request_backfill('RACE', '{h1}')")
        // The second call waits on the first's uncommitted row in the unique index, then updates it.
        let waiting = Task.detached { try second.query("SELECT created FROM barfill.request_backfill('RACE', '{h1}', 'chart')").bool(0, 0) }
        // Commit only once the second session is seen waiting for the first's lock (not after a
        // guessed pause: on a loaded machine it may not have started yet, and the race goes untested).
        let blocked = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        var seenWaiting = false
        for _ in 0..<6_000 {   // 30 s at most
            if try Self.count(database.connection, blocked) > 0 { seenWaiting = true; break }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        #expect(seenWaiting, "the second call never waited for the first's row")
        try first.query("COMMIT")
        #expect(try await waiting.value == false)
        #expect(try Self.count(database.connection, "SELECT count(*) FROM barfill.requests") == 1)
        #expect(try Self.count(database.connection, "SELECT max(priority) FROM barfill.requests") == 30)
    }

    @Test func hostileAndMalformedInputIsAnErrorAndWritesNothing() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        try database.insertSymbol("AAPL")
        let calls: [(String, [(any PostgresParameter)?])] = [
            ("SELECT * FROM barfill.request_backfill($1)", ["AAPL'; DELETE FROM barfill.requests; --"]),
            ("SELECT * FROM barfill.request_backfill($1)", ["aapl"]),
            ("SELECT * FROM barfill.request_backfill($1)", [String(repeating: "A", count: 10_000)]),
            ("SELECT * FROM barfill.request_backfill($1)", [nil]),
            ("SELECT * FROM barfill.request_backfill('AAPL', NULL, $1)", ["watchlist'); DROP TABLE symbols; --"]),
            ("SELECT * FROM barfill.request_backfill('AAPL', NULL, $1)", [""]),
            ("SELECT * FROM barfill.request_backfill('AAPL', NULL, $1)", [nil]),
            ("SELECT * FROM barfill.request_backfill('AAPL', $1::text[])", [["h1", "h1; DROP TABLE ohlc_bars"]]),
            ("SELECT * FROM barfill.request_backfill('AAPL', $1::text[])", ["{}"]),
            ("SELECT * FROM barfill.request_backfill('AAPL', '{h1,NULL}')", []),
            ("SELECT * FROM barfill.request_backfill('AAPL', NULL, 'manual', $1, $2)", ["2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z"]),
            ("SELECT * FROM barfill.chart_readiness($1, 'h1', now() - interval '1 day', now())", ["<script>"]),
            ("SELECT * FROM barfill.chart_readiness('AAPL', $1, now() - interval '1 day', now())", ["h1' OR '1'='1"]),
            ("SELECT * FROM barfill.chart_readiness('AAPL', 'h1', NULL, now())", []),
            ("SELECT * FROM barfill.chart_readiness('AAPL', 'h1', now(), now() - interval '1 day')", []),
        ]
        for (sql, parameters) in calls {
            do {
                try database.connection.query(sql, parameters)
                Issue.record("accepted: \(sql) \(parameters)")
            } catch {
                #expect(error.sqlState == "22023", "\(sql): \(error)")
            }
        }
        #expect(try Self.count(database.connection, "SELECT count(*) FROM barfill.requests") == 0)
        #expect(try Self.count(database.connection, "SELECT count(*) FROM symbols") == 1)
    }

    @Test func aRoleWithoutTheGrantIsRefusedAndOneWithItMayCall() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        try database.insertSymbol("GRNT")
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let (outsider, app) = ("barfill_test_outsider_\(suffix)", "barfill_test_app_\(suffix)")
        // Role names are generated here, never input.
        try database.connection.execute(script: """
            CREATE ROLE \(outsider) NOLOGIN; CREATE ROLE \(app) NOLOGIN;
            GRANT USAGE ON SCHEMA barfill TO \(outsider), \(app);
            GRANT EXECUTE ON FUNCTION barfill.request_backfill(text, text[], text, timestamptz, timestamptz),
                                      barfill.chart_readiness(text, text, timestamptz, timestamptz, boolean) TO \(app);
            """)
        defer {
            _ = try? database.connection.execute(script: """
                RESET ROLE; DROP OWNED BY \(outsider), \(app); DROP ROLE IF EXISTS \(outsider); DROP ROLE IF EXISTS \(app);
                """)
        }
        let session = try database.connect()
        try session.query("SET ROLE \(outsider)")
        for sql in ["SELECT * FROM barfill.request_backfill('GRNT')",
                    "SELECT * FROM barfill.chart_readiness('GRNT', 'h1', now() - interval '1 day', now())",
                    "SELECT * FROM barfill.enqueue_series(gen_random_uuid(), NULL, 'manual', NULL, NULL)"] {
            #expect(throws: PostgresError.self) { try session.query(sql) }
            #expect(session.isHealthy)
        }
        try session.query("RESET ROLE")
        #expect(try Self.count(database.connection, "SELECT count(*) FROM barfill.requests") == 0)

        try session.query("SET ROLE \(app)")
        #expect(try session.query("SELECT created FROM barfill.request_backfill('GRNT')").rowCount == 2)
        #expect(throws: PostgresError.self, "the app role still cannot touch the table itself") {
            try session.query("DELETE FROM barfill.requests")
        }
        try session.query("RESET ROLE")
    }

    @Test func claimsGoByPriorityThenAgeAndSkipWhatIsNotDue() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        let queue = RequestQueue(connection: database.connection)
        for ticker in ["SCHED", "MANUAL", "CHART", "WATCH", "LATER"] { try database.insertSymbol(ticker) }
        _ = try queue.enqueue(ticker: "SCHED", timeframes: ["d1"], reason: "schedule")
        _ = try queue.enqueue(ticker: "MANUAL", timeframes: ["d1"], reason: "manual")
        _ = try queue.enqueue(ticker: "CHART", timeframes: ["d1"], reason: "chart")
        _ = try queue.enqueue(ticker: "WATCH", timeframes: ["d1"], reason: "watchlist")
        _ = try queue.enqueue(ticker: "LATER", timeframes: ["d1"], reason: "chart")
        try database.connection.query("""
            UPDATE barfill.requests r SET next_attempt_at = now() + interval '1 hour' FROM symbols s
            WHERE s.id = r.symbol_id AND s.ticker = 'LATER'
            """)
        var order: [String] = []
        while let request = try queue.claim(owner: "test", leaseSeconds: 60) { order.append(request.ticker) }
        #expect(order == ["CHART", "WATCH", "MANUAL", "SCHED"])
        // A schedule request raised by a chart request jumps ahead of the manual one, and being
        // the oldest of its new priority, ahead of the others too.
        #expect(try queue.release(owner: "test") == 4)
        _ = try queue.enqueue(ticker: "SCHED", timeframes: ["d1"], reason: "chart")
        order = []
        while let request = try queue.claim(owner: "test", leaseSeconds: 60) { order.append(request.ticker) }
        #expect(order == ["SCHED", "CHART", "WATCH", "MANUAL"])
    }

    @Test func endingARequestNeedsTheLeaseAndAWidenedRequestIsQueuedAgain() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        try database.insertSymbol("LEASE")
        let queue = RequestQueue(connection: database.connection)
        _ = try queue.enqueue(ticker: "LEASE", timeframes: ["d1"], reason: "manual",
                              from: 1_704_067_200, until: 1_706_745_600)
        let claimed = try #require(try queue.claim(owner: "a", leaseSeconds: 60))
        #expect(try queue.claim(owner: "b", leaseSeconds: 60) == nil, "a live lease is not claimable")
        #expect(try queue.renew(claimed.id, owner: "b", leaseSeconds: 60) == false)
        #expect(try queue.complete(claimed, owner: "b", result: RequestResult()) == nil)
        _ = try queue.enqueue(ticker: "LEASE", timeframes: ["d1"], reason: "chart", from: 1_701_388_800, until: 1_706_745_600)
        #expect(try queue.complete(claimed, owner: "a", result: RequestResult(providerRequests: 1, barsInserted: 21, gapsLeft: 0)) == "queued")
        let again = try #require(try queue.claim(owner: "b", leaseSeconds: 60))
        #expect(again.id == claimed.id && again.from == 1_701_388_800)
        #expect(try queue.complete(again, owner: "b", result: RequestResult(providerRequests: 1, barsInserted: 20, gapsLeft: 0)) == "done")
        let row = try database.connection.query("SELECT provider_requests, bars_inserted, state FROM barfill.requests")
        #expect(try row.int(0, 0) == 2 && row.int(0, 1) == 41 && row.string(0, 2) == "done")
    }

    @Test func transientFailuresBackOffAndTheLastAttemptFails() throws {
        let database = try TestDatabase.fresh(schema: .freshInstall)
        try database.insertSymbol("FLAKY")
        try database.connection.query("UPDATE barfill.request_settings SET max_attempts = 2")
        let queue = RequestQueue(connection: database.connection)
        _ = try queue.enqueue(ticker: "FLAKY", timeframes: ["d1"])
        let first = try #require(try queue.claim(owner: "w", leaseSeconds: 60))
        #expect(try queue.fail(first.id, owner: "w", error: "HTTP 503", permanent: false, result: RequestResult()) == "queued")
        #expect(try queue.claim(owner: "w", leaseSeconds: 60) == nil, "not before the backoff")
        try database.connection.query("UPDATE barfill.requests SET next_attempt_at = now()")
        let second = try #require(try queue.claim(owner: "w", leaseSeconds: 60))
        #expect(second.attempts == 1)
        #expect(try queue.fail(second.id, owner: "w", error: "HTTP 503", permanent: false, result: RequestResult()) == "failed")
        #expect(try database.connection.query("SELECT last_error FROM barfill.requests").scalar() == "HTTP 503")
    }

    // MARK: barfill work

    @Test func workOnceFillsASymbolWithoutBarsAndChartReadinessFollows() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let symbol = try db.insertSymbol("NEWCO")
        let readiness = "SELECT warming, request_id FROM barfill.chart_readiness('NEWCO', $1, now() - interval '90 days', now(), $2)"
        #expect(try db.connection.query(readiness, ["h1", false]).bool(0, 0) == true, "warming before")
        #expect(try Self.count(db.connection, "SELECT count(*) FROM barfill.requests") == 0, "enqueue false queues nothing")
        try db.insertWatchlist("mine", symbolIds: [symbol])
        let chart = try db.connection.query(readiness, ["d1", true])
        #expect(chart.bool(0, 0) == true && chart.string(0, 1) != nil)
        #expect(try Self.count(db.connection, "SELECT count(*) FROM barfill.requests") == 2, "the chart's request joined the watchlist's")

        let binary = try Self.binary(fixture)
        let checkpoint = fixture.directory.appendingPathComponent("work.sqlite").path
        let run = try await binary.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done' AND gaps_left = 0") == 2)

        for timeframe in [Timeframe.h1, .d1] {
            // Head to tail: exactly the expected slots of the verified window, none twice.
            let status = try db.connection.query("""
                SELECT extract(epoch FROM verified_from)::bigint, extract(epoch FROM verified_through)::bigint
                FROM barfill.backfill_status WHERE symbol_id = $1::uuid AND timeframe = $2
                """, [symbol, timeframe])
            let from = try #require(try status.int64(0, 0)), through = try #require(try status.int64(0, 1))
            #expect(through - from >= 2 * 365 * 86_400 - 86_400, "two years deep")
            let grid = Grid(timeframe: timeframe)
            let expected = grid.ordinals(from: from, until: through).map { grid.slot(at: $0).start }
            #expect(try db.barTimes(symbolId: symbol, timeframe: timeframe) == expected, "\(timeframe)")
            #expect(try db.connection.query(readiness, [timeframe.rawValue, true]).bool(0, 0) == false, "not warming after")
        }
        let fetched = fixture.requests().count
        let rows = try db.barCount()

        // A second run finds nothing to do; a new request for the same series costs no provider request.
        #expect(try RequestQueue(connection: db.connection).enqueue(ticker: "NEWCO").allSatisfy(\.created))
        let second = try await binary.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(fixture.requests().count == fetched)
        #expect(try db.barCount() == rows)
        #expect(try Self.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done'") == 4)

        let json = try await binary.run(["requests", "--format", "json"], directory: fixture.directory)
        #expect(json.status == 0)
        let summary = try JSONValue(parsing: json.stdout)
        guard case let .object(top) = summary, case let .object(states)? = top["states"], case let .object(done)? = states["done"] else {
            Issue.record("unexpected JSON: \(json.stdout)"); return
        }
        #expect(done["total"] == .integer(4) && top["oldest_queued_at"] == .null)
    }

    @Test func fourConcurrentWorkersDoEachOfFortyRequestsOnce() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let queue = RequestQueue(connection: db.connection)
        var ids: [String] = []
        for n in 0..<40 {
            let ticker = "C\(n)"
            ids.append(try db.insertSymbol(ticker))
            _ = try queue.enqueue(ticker: ticker, timeframes: ["d1"], reason: "manual",
                                  from: ApplyFixture.window.from - 60 * 86_400, until: ApplyFixture.window.until)
        }
        // Through the transaction-mode pooler when there is one: claims are one statement each.
        let binary = try Self.binary(fixture, databaseURL: db.poolerURL ?? db.url)
        var started: [(Process, URL, URL)] = []
        for n in 0..<4 {
            let checkpoint = fixture.directory.appendingPathComponent("work-\(n).sqlite").path
            started.append(try binary.start(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory))
        }
        for (process, _, err) in started {
            while process.isRunning { try await Task.sleep(nanoseconds: 20_000_000) }
            #expect(process.terminationStatus == 0, "\((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
        }
        #expect(try Self.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'done' AND attempts = 0 AND gaps_left = 0") == 40)
        let paths = fixture.requests().map(\.path)
        #expect(!paths.isEmpty && Set(paths).count == paths.count, "no chunk fetched twice")
        #expect(try Self.count(db.connection, "SELECT count(*) - count(DISTINCT (symbol_id, ts)) FROM ohlc_bars") == 0)
        let grid = Grid(timeframe: .d1)
        let perSeries = grid.ordinals(from: ApplyFixture.window.from - 60 * 86_400, until: ApplyFixture.window.until).count
        #expect(try db.barCount() == 40 * perSeries)
        // Every worker logged what it ended; together each request exactly once.
        var ended: [String] = []
        for (_, _, err) in started {
            let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            ended += text.split(separator: "\n").filter { $0.hasPrefix("work: request ") && $0.contains(": done;") }
                .map { String($0.split(separator: " ")[2]) }
        }
        #expect(ended.count == 40 && Set(ended).count == 40)
    }

    @Test func aWorkerKilledHoldingALeaseIsTakenOverAfterTheLeaseExpires() async throws {
        let fixture = try ApplyFixture()
        let db = fixture.database
        let symbol = try db.insertSymbol("KILLD")
        _ = try RequestQueue(connection: db.connection).enqueue(
            ticker: "KILLD", timeframes: ["h1"], reason: "manual", from: ApplyFixture.window.from, until: ApplyFixture.window.until)
        // Every answer of this simulator takes long, so the worker is surely mid-request when killed.
        let slow = try SimulatedProvider(configuration: SimulatedProvider.Configuration(faultRules: [.init(every: 1, fault: .slow(30))]))
        defer { slow.stop() }
        let doomed = try Self.binary(fixture, baseURL: slow.massiveBaseURL)
        let (process, _, _) = try doomed.start(["work", "--once", "--lease", "3s", "--checkpoint",
                                                fixture.directory.appendingPathComponent("doomed.sqlite").path] + Self.unpaced,
                                               directory: fixture.directory)
        let running = "SELECT count(*) FROM barfill.requests WHERE state = 'running'"
        // A request at the provider means the claim is made and the lease held.
        while slow.log.isEmpty, process.isRunning { try await Task.sleep(nanoseconds: 20_000_000) }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(try Self.count(db.connection, running) == 1, "the dead worker's lease is still there")

        let heir = try Self.binary(fixture)
        let checkpoint = fixture.directory.appendingPathComponent("heir.sqlite").path
        let early = try await heir.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        if try Self.count(db.connection, running) == 1 {
            #expect(early.status == 0 && fixture.requests().isEmpty, "a live lease is left alone")
        }
        while try Self.count(db.connection, "SELECT count(*) FROM barfill.requests WHERE state = 'running' AND lease_expires_at >= now()") > 0 {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let run = try await heir.run(["work", "--once", "--checkpoint", checkpoint] + Self.unpaced, directory: fixture.directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.connection.query("SELECT state FROM barfill.requests").scalar() == "done")
        let grid = Grid(timeframe: .h1)
        let expected = grid.ordinals(from: ApplyFixture.window.from, until: ApplyFixture.window.until).map { grid.slot(at: $0).start }
        #expect(try db.barTimes(symbolId: symbol, timeframe: .h1) == expected)
    }
}
