// barfill-bench gaps: the gap scan over about 6 million h1 bars (1,000 symbols × 4 years,
// 0.5% random holes), against `SELECT count(*)` and the calendar-blind window query.
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

    static func run() async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_SYMBOLS"] ?? "") ?? 1_000
        let explain = ProcessInfo.processInfo.environment["BARFILL_BENCH_EXPLAIN"] == "1"
        // Blocking work stays off the cooperative pool.
        try await Task.detached { try body(symbols: symbols, explain: explain) }.value
    }

    private static func body(symbols: Int, explain: Bool) throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let connection = db.connection
        let grid = Grid(timeframe: .h1)
        let slots = grid.ordinals(from: from, until: until)

        // Load: one COPY stream per symbol, one transaction.
        var random = SplitMix64(seed: 20_240_101)
        try connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n", [symbols])
        let ids = try connection.query("SELECT id::text, ticker FROM symbols ORDER BY ticker")
        var holes = 0
        var punched: [String: Set<Int>] = [:]   // ticker → the ordinals left out: what the scan must find
        let (rows, loadSeconds) = try measureSync {
            try connection.transaction { _ in
                var rows = 0
                for row in 0..<ids.rowCount {
                    var bars: [Bar] = []
                    bars.reserveCapacity(slots.count)
                    for ordinal in slots {
                        if random.next() % 200 == 0 {   // 0.5%
                            holes += 1
                            punched[ids.string(row, 1)!, default: []].insert(ordinal)
                            continue
                        }
                        bars.append(fixtureBar(at: grid.slot(at: ordinal).start))
                    }
                    rows += try db.insertBars(bars, symbolId: ids.string(row, 0)!, timeframe: .h1)
                }
                return rows
            }
        }
        try connection.query("VACUUM ANALYZE ohlc_bars")
        print(String(format: "gaps: loaded %d h1 bars (%d symbols × %d slots, %d holes) in %.1f s (%.0f rows/s)",
                     rows, symbols, slots.count, holes, loadSeconds, Double(rows) / loadSeconds))

        let blind = """
            SELECT count(*) FROM (SELECT ts, lead(ts) OVER (PARTITION BY symbol_id, timeframe ORDER BY ts) nx FROM ohlc_bars) s
            WHERE nx - ts > interval '1 hour'
            """
        let request = ScanRequest(timeframes: [.h1], from: from, until: until, full: true)
        // Warm the cache once, then take the best of three of each.
        _ = try connection.query("SELECT count(*) FROM ohlc_bars")
        let count = try best(of: 3) { _ = try connection.query("SELECT count(*) FROM ohlc_bars") }
        let blindRows = try connection.query(blind).scalar() ?? "?"
        let blindTime = try best(of: 3) { _ = try connection.query(blind) }
        var gapsFound = 0, missing = 0
        var found: [String: Set<Int>] = [:]
        let scanTime = try best(of: 3) {
            let scanner = GapScanner(connection: try PostgresConnection(url: db.url))
            let result = try scanner.scan(request)
            gapsFound = result.series.reduce(0) { $0 + $1.gaps.count }
            missing = result.series.reduce(0) { $0 + $1.gaps.reduce(0) { $0 + $1.bars } }
            found = [:]
            for series in result.series where !series.gaps.isEmpty {
                found[series.ticker, default: []].formUnion(series.gaps.flatMap { $0.firstOrdinal...$0.lastOrdinal })
            }
        }
        // Exact means the same slots, not only as many: a scan off by one slot finds as many holes.
        guard found == punched else {
            let extra = found.reduce(0) { $0 + $1.value.subtracting(punched[$1.key] ?? []).count }
            let missed = punched.reduce(0) { $0 + $1.value.subtracting(found[$1.key] ?? []).count }
            throw BenchError.wrongAnswer("the scan found \(missing) missing bars, \(holes) were punched: \(extra) found that were not punched, \(missed) punched not found")
        }
        print(String(format: "gaps: SELECT count(*)       %.3f s", count))
        print(String(format: "gaps: calendar-blind query  %.3f s (%@ rows with nx - ts > 1 hour)", blindTime, blindRows))
        print(String(format: "gaps: GapScanner full scan  %.3f s (%d gaps, %d missing bars: exact)", scanTime, gapsFound, missing))
        print(String(format: "gaps: ratio scan / blind = %.2f×, scan / count(*) = %.2f×", scanTime / blindTime, scanTime / count))

        if explain { try printPlans(db: db, request: request) }

        // Incremental: fill the holes as apply would, verify once, add a day, rescan.
        let store = try BarStore(connection: connection)
        let full = try GapScanner(connection: connection).scan(request)
        for series in full.series {
            let bars = series.gaps.flatMap { $0.firstOrdinal...$0.lastOrdinal }.map { fixtureBar(at: grid.slot(at: $0).start) }
            try store.upsert(bars: bars, ticker: series.ticker, timeframe: .h1, provider: .massive)
        }
        let verified = try GapScanner(connection: connection).scan(request)
        guard verified.series.allSatisfy({ $0.gaps.isEmpty }), verified.recorded == symbols else {
            throw BenchError.wrongAnswer("after filling, the scan still finds gaps or recorded \(verified.recorded) series")
        }
        try connection.transaction { _ in
            for row in 0..<ids.rowCount {
                try db.insertBars(GridFixture.everySlot(of: grid, from: until, until: nextUntil), symbolId: ids.string(row, 0)!, timeframe: .h1)
            }
        }
        let fullAfter = try best(of: 5) {
            _ = try GapScanner(connection: try PostgresConnection(url: db.url))
                .scan(ScanRequest(timeframes: [.h1], from: from, until: nextUntil, full: true))
        }
        // Each incremental run records its verified point; it is reset (untimed) before each run
        // so that every run does the same work: the day after the previous verified point.
        let snapshot = try connection.query("SELECT count(*) FROM barfill.backfill_status").scalar() ?? "0"
        var incrementalSeries: [SeriesScan] = []
        var incremental = Double.infinity
        for _ in 0..<5 {
            try connection.query("UPDATE barfill.backfill_status SET verified_through = $1::timestamptz", [Timestamp(until)])
            let (series, seconds) = try measureSync {
                try GapScanner(connection: try PostgresConnection(url: db.url))
                    .scan(ScanRequest(timeframes: [.h1], from: from, until: nextUntil)).series
            }
            incrementalSeries = series
            incremental = min(incremental, seconds)
        }
        guard incrementalSeries.count == symbols, incrementalSeries.allSatisfy({ $0.gaps.isEmpty && $0.from > from }) else {
            throw BenchError.wrongAnswer("the incremental scan was not incremental or found gaps")
        }
        if explain {
            try connection.query("UPDATE barfill.backfill_status SET verified_through = $1::timestamptz", [Timestamp(until)])
            try printPlans(db: db, request: ScanRequest(timeframes: [.h1], from: from, until: nextUntil), analyze: false)
        }
        print(String(format: "gaps: incremental scan after one new day %.3f s vs full %.3f s = %.1f%% (%@ series verified)",
                     incremental, fullAfter, 100 * incremental / fullAfter, snapshot))

        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        print(String(format: "gaps: peak memory (maxrss) %.1f MB", Double(usage.ru_maxrss) / 1024))
    }

    /// EXPLAIN ANALYZE of every statement of one scan, through auto_explain (superuser test cluster).
    private static func printPlans(db: TestDatabase, request: ScanRequest, analyze: Bool = true) throws {
        let connection = try PostgresConnection(url: db.url)
        try connection.execute(script: """
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = \(analyze ? "on" : "off");
            SET auto_explain.log_buffers = \(analyze ? "on" : "off"); SET auto_explain.log_level = notice;
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

/// A small deterministic random source, so every run punches the same holes.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
