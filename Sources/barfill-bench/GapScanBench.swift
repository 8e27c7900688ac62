// barfill-bench gaps, gaps-m15: the gap scan over one table of 1,000 symbols × 4 years with 0.5%
// holes — about 6 million h1 bars (`gaps`) or 25 million m15 bars (`gaps-m15`) — against
// `SELECT count(*)` and the calendar-blind window query on the same table, then the incremental
// scan after one new day, and the scan's peak memory.
//
// Environment: BARFILL_TEST_DATABASE_URL (from scripts/with-postgres); BARFILL_BENCH_SYMBOLS
// (default 1000) to run smaller; BARFILL_BENCH_EXPLAIN=1 prints the scan's plans (auto_explain).
import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation

enum GapScanBench {
    static let from = NewYork.midnight(LocalDate(year: 2021, month: 1, day: 1)!)
    static let until = NewYork.midnight(LocalDate(year: 2025, month: 1, day: 1)!)
    /// One more session after the window: the incremental scan's new day.
    static let nextUntil = NewYork.midnight(LocalDate(year: 2025, month: 1, day: 3)!)

    /// The h1 table (section `gaps`).
    static func run() async throws { try await run(timeframe: .h1) }
    /// The m15 table (section `gaps-m15`).
    static func runM15() async throws { try await run(timeframe: .m15) }

    static func run(timeframe: Timeframe) async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_SYMBOLS"] ?? "") ?? 1_000
        let explain = ProcessInfo.processInfo.environment["BARFILL_BENCH_EXPLAIN"] == "1"
        // Blocking work stays off the cooperative pool.
        let (_, seconds) = try await measure {
            try await Task.detached { try body(timeframe: timeframe, symbols: symbols, explain: explain) }.value
        }
        print(String(format: "%@: section took %.0f s", label(timeframe), seconds))
    }

    private static func label(_ timeframe: Timeframe) -> String { timeframe == .h1 ? "gaps" : "gaps-\(timeframe.rawValue)" }

    private static func body(timeframe: Timeframe, symbols: Int, explain: Bool) throws {
        let label = label(timeframe)
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let connection = db.connection
        let grid = Grid(timeframe: timeframe)
        let slots = grid.ordinals(from: from, until: until)
        // A larger table takes longer per run: fewer repeats keep the section within minutes.
        let repeats = timeframe == .h1 ? 3 : 2

        let ((rows, punched), loadSeconds) = try measureSync { try load(db: db, grid: grid, slots: slots, symbols: symbols) }
        let holes = punched.values.reduce(0) { $0 + $1.count }
        print(String(format: "%@: loaded %d %@ bars (%d symbols × %d slots, %d holes) in %.1f s (%.0f rows/s, plain SQL, vacuumed)",
                     label, rows, timeframe.rawValue, symbols, slots.count, holes, loadSeconds, Double(rows) / loadSeconds))

        let step = "interval '\(timeframe.intradaySeconds!) seconds'"
        let blind = """
            SELECT count(*) FROM (SELECT ts, lead(ts) OVER (PARTITION BY symbol_id, timeframe ORDER BY ts) nx FROM ohlc_bars) s
            WHERE nx - ts > \(step)
            """
        let request = ScanRequest(timeframes: [timeframe], from: from, until: until, full: true)
        // Warm the cache once, then take the best of a few of each.
        _ = try connection.query("SELECT count(*) FROM ohlc_bars")
        let count = try best(of: repeats) { _ = try connection.query("SELECT count(*) FROM ohlc_bars") }
        let blindRows = try connection.query(blind).scalar() ?? "?"
        let blindTime = try best(of: repeats) { _ = try connection.query(blind) }
        var gapsFound = 0, missing = 0
        var found: [String: Set<Int>] = [:]
        let residentBefore = Memory.resident()
        Memory.resetPeak()
        let scanTime = try best(of: repeats) {
            let scanner = GapScanner(connection: try PostgresConnection(url: db.url))
            let result = try scanner.scan(request)
            gapsFound = result.series.reduce(0) { $0 + $1.gaps.count }
            missing = result.series.reduce(0) { $0 + $1.gaps.reduce(0) { $0 + $1.bars } }
            found = [:]
            for series in result.series where !series.gaps.isEmpty {
                found[series.ticker, default: []].formUnion(series.gaps.flatMap { $0.firstOrdinal...$0.lastOrdinal })
            }
        }
        let scanPeak = Memory.peak()
        // Exact means the same slots, not only as many: a scan off by one slot finds as many holes.
        guard found == punched else {
            let extra = found.reduce(0) { $0 + $1.value.subtracting(punched[$1.key] ?? []).count }
            let missed = punched.reduce(0) { $0 + $1.value.subtracting(found[$1.key] ?? []).count }
            throw BenchError.wrongAnswer("the scan found \(missing) missing bars, \(holes) were punched: \(extra) found that were not punched, \(missed) punched not found")
        }
        print(String(format: "%@: SELECT count(*)       %.3f s", label, count))
        print(String(format: "%@: calendar-blind query  %.3f s (%@ rows with nx - ts > one step)", label, blindTime, blindRows))
        print(String(format: "%@: GapScanner full scan  %.3f s (%d gaps, %d missing bars: exact, the same slots as punched)", label, scanTime, gapsFound, missing))
        print(String(format: "%@: ratio scan / blind = %.2f×, scan / count(*) = %.2f×", label, scanTime / blindTime, scanTime / count))
        print(String(format: "%@: peak memory (client RSS) during the full scans %.1f MB (%.1f MB resident before them)",
                     label, scanPeak, residentBefore))

        if explain { try printPlans(db: db, request: request) }

        // Incremental: fill the holes as apply would, verify once, add a day, rescan.
        let store = try BarStore(connection: connection)
        let full = try GapScanner(connection: connection).scan(request)
        for series in full.series {
            let bars = series.gaps.flatMap { $0.firstOrdinal...$0.lastOrdinal }.map { fixtureBar(at: grid.slot(at: $0).start) }
            try store.upsert(bars: bars, ticker: series.ticker, timeframe: timeframe, provider: .massive)
        }
        let verified = try GapScanner(connection: connection).scan(request)
        guard verified.series.allSatisfy({ $0.gaps.isEmpty }), verified.recorded == symbols else {
            throw BenchError.wrongAnswer("after filling, the scan still finds gaps or recorded \(verified.recorded) series")
        }
        try connection.query(PostgresQuery("bench: one new day", """
            INSERT INTO ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
            SELECT sy.id, $1::text::timeframe, s.ts, 100, 101, 99, 100.25, 1000, 'massive'
            FROM symbols sy CROSS JOIN unnest($2::timestamptz[]) AS s (ts)
            """, [timeframe.rawValue, grid.ordinals(from: until, until: nextUntil).map { Timestamp(grid.slot(at: $0).start) }]))
        let fullAfter = try best(of: repeats + 2) {
            _ = try GapScanner(connection: try PostgresConnection(url: db.url))
                .scan(ScanRequest(timeframes: [timeframe], from: from, until: nextUntil, full: true))
        }
        // Each incremental run records its verified point; it is reset (untimed) before each run
        // so that every run does the same work: the day after the previous verified point.
        let snapshot = try connection.query("SELECT count(*) FROM barfill.backfill_status").scalar(as: Int.self)
        var incrementalSeries: [SeriesScan] = []
        var incremental = Double.infinity
        for _ in 0..<5 {
            try connection.query("UPDATE barfill.backfill_status SET verified_through = $1::timestamptz", [Timestamp(until)])
            let (series, seconds) = try measureSync {
                try GapScanner(connection: try PostgresConnection(url: db.url))
                    .scan(ScanRequest(timeframes: [timeframe], from: from, until: nextUntil)).series
            }
            incrementalSeries = series
            incremental = min(incremental, seconds)
        }
        guard incrementalSeries.count == symbols, incrementalSeries.allSatisfy({ $0.gaps.isEmpty && $0.from > from }) else {
            throw BenchError.wrongAnswer("the incremental scan was not incremental or found gaps")
        }
        if explain {
            try connection.query("UPDATE barfill.backfill_status SET verified_through = $1::timestamptz", [Timestamp(until)])
            try printPlans(db: db, request: ScanRequest(timeframes: [timeframe], from: from, until: nextUntil))
        }
        print(String(format: "%@: incremental scan after one new day %.3f s vs full %.3f s = %.1f%% (%d series verified)",
                     label, incremental, fullAfter, 100 * incremental / fullAfter, snapshot))
    }

    /// Fills `ohlc_bars` with every slot of the window for `symbols` symbols except the holes, in
    /// plain SQL (the writers under test are not used): the slots from `Grid` go to a temp table,
    /// one `INSERT … SELECT` per batch of symbols leaves out the slots a hash of (symbol number,
    /// ordinal) picks, and the holes come back from a side table made with the same hash.
    /// Returns the bars written and the punched ordinals by ticker.
    private static func load(db: TestDatabase, grid: Grid, slots: Range<Int>, symbols: Int) throws -> (Int, [String: Set<Int>]) {
        let connection = db.connection
        try connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n", [symbols])
        try connection.execute(script: """
            CREATE TEMP TABLE bench_symbols AS SELECT id, ticker, row_number() OVER (ORDER BY ticker) AS n FROM symbols;
            CREATE TEMP TABLE bench_slots (ordinal integer, ts timestamptz);
            """)
        _ = try connection.copy("COPY bench_slots (ordinal, ts) FROM STDIN") { writer in
            for ordinal in slots {
                writer.append(ordinal)
                writer.appendTimestamp(grid.slot(at: ordinal).start)
                try writer.endRow()
            }
        }
        // 0.5% of slots: one in 200 by a hash of (symbol number, ordinal), the same in every run.
        let hole = "hashint8(y.n * 1000003 + s.ordinal) % 200 = 0"
        try connection.execute(script: """
            ANALYZE bench_symbols; ANALYZE bench_slots;
            CREATE TEMP TABLE bench_holes AS
                SELECT y.ticker, s.ordinal FROM bench_symbols y CROSS JOIN bench_slots s WHERE \(hole);
            """)
        // Every symbol id comes from `symbols`: the per-row foreign-key trigger would only slow the
        // load down (the test cluster's role is a superuser; this session only). No fsync wait per batch.
        try connection.execute(script: "SET session_replication_role = replica; SET synchronous_commit = off;")
        var rows = 0
        let batch = max(1, 1_000_000 / max(1, slots.count))   // symbols per statement: about a million bars
        var first = 1
        while first <= symbols {
            // One symbol's bars after another (slots outer would scatter every batch over the index);
            // prices as `fixtureBar` makes them.
            rows += try connection.query(PostgresQuery("bench: load bars", """
                INSERT INTO ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
                SELECT y.id, $1::text::timeframe, s.ts, 100 + s.w, 101 + s.w, 99 + s.w, 100.25 + s.w, 1000 + s.e % 1000, 'massive'
                FROM (SELECT id, n FROM bench_symbols WHERE n BETWEEN $2::bigint AND $3::bigint ORDER BY n) y
                CROSS JOIN LATERAL (SELECT ordinal, ts, e, (e % 97) / 100.0 AS w
                                    FROM (SELECT ordinal, ts, extract(epoch FROM ts)::bigint AS e FROM bench_slots) t) s
                WHERE NOT (\(hole))
                """, [grid.timeframe.rawValue, first, first + batch - 1])).affectedRows
            first += batch
        }
        try connection.execute(script: "RESET session_replication_role; RESET synchronous_commit;")
        try connection.query("VACUUM ANALYZE ohlc_bars")
        var punched: [String: Set<Int>] = [:]   // ticker → the ordinals left out: what the scan must find
        let holes = try connection.query("SELECT ticker, ordinal FROM bench_holes")
        let ticker = try holes.column("ticker", as: String.self), ordinal = try holes.column("ordinal", as: Int.self)
        for row in holes.rows { punched[try row.decode(ticker), default: []].insert(try row.decode(ordinal)) }
        try connection.execute(script: "DROP TABLE bench_symbols; DROP TABLE bench_slots; DROP TABLE bench_holes;")
        return (rows, punched)
    }

    /// EXPLAIN ANALYZE of every statement of one scan, through auto_explain (superuser test cluster).
    private static func printPlans(db: TestDatabase, request: ScanRequest) throws {
        let connection = try PostgresConnection(url: db.url)
        try connection.execute(script: """
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
            SET auto_explain.log_buffers = on; SET auto_explain.log_timing = on; SET auto_explain.log_level = notice;
            """)
        connection.onNotice = { print("explain: \($0)", terminator: "") }
        let (_, seconds) = try measureSync { try GapScanner(connection: connection).scan(request) }
        print(String(format: "explain: whole scan %.3f s", seconds))
    }

    private static func best(of runs: Int, _ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<runs { best = min(best, try measureSync(body).1) }
        return best
    }
}

enum BenchError: Error, CustomStringConvertible {
    case wrongAnswer(String)
    var description: String {
        switch self { case let .wrongAnswer(what): "wrong answer: \(what)" }
    }
}

/// Wall-clock seconds of a synchronous body.
func measureSync<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// The bench process's resident memory (Linux `/proc/self`), in MB.
enum Memory {
    /// Forgets the peak so far (writing 5 to `clear_refs` resets VmHWM), so `peak()` is that of what follows.
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
    static func peak() -> Double { status("VmHWM") }
    static func resident() -> Double { status("VmRSS") }

    private static func status(_ field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Double(line.split(separator: " ").dropFirst().first ?? "").map { $0 / 1024 } ?? .nan
        }
        return .nan
    }
}
