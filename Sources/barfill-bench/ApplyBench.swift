// barfill-bench apply: a plan of about a million missing m15 bars (40 empty series × 4 years),
// applied against the simulated provider with no rate limit; then the same rows loaded into an
// identical empty table with a plain `COPY … FROM` through psql, for the ratio.
//
// Environment: BARFILL_TEST_DATABASE_URL (from scripts/with-postgres); BARFILL_BENCH_APPLY_SYMBOLS
// (default 40) to run smaller; psql on PATH or in /usr/lib/postgresql/*/bin.
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import BarfillSimulator

enum ApplyBench {
    static let from = NewYork.midnight(LocalDate(year: 2021, month: 1, day: 1)!)
    static let until = NewYork.midnight(LocalDate(year: 2025, month: 1, day: 1)!)
    static let key = "bench-key-0000000000000001"

    static func run() async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_APPLY_SYMBOLS"] ?? "") ?? 40
        let psql = try findPsql()
        for concurrency in [1, 2] {
            try await once(symbols: symbols, concurrency: concurrency, psql: psql)
        }
    }

    private static func once(symbols: Int, concurrency: Int, psql: String) async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try db.connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n",
                                [symbols])
        // The plan, made the way `barfill gaps` makes it: every series is empty.
        let request = ScanRequest(symbols: (1...symbols).map { "S" + String(format: "%04d", $0) }, timeframes: [.m15],
                                  from: from, until: until, full: true, provider: .massive)
        let (scan, scanSeconds) = try measureSync { try GapScanner(connection: db.connection).scan(request) }
        let plan = try Planner().plan(scans: scan.series, window: Plan.Window(from: from, until: until),
                                      source: Plan.Source(host: "bench", database: db.name), createdAt: 0)

        let simulator = try SimulatedProvider()
        defer { simulator.stop() }
        let settings = try ProviderSettings(provider: .massive, baseURL: simulator.massiveBaseURL, key: APIKey(key)!)
        let limiter = RateLimiter(provider: .massive, key: APIKey(key)!, limits: [RateLimit(requests: 1_000_000, per: 1)])
        let connections = WorkerWiring(databaseURL: db.url, limiters: [.massive: limiter]) { _, limiter in
            try MassiveClient(settings: settings, limiter: limiter)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-bench-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let report: ApplyReport
        let applySeconds: Double
        do {
            let checkpoint = try CheckpointStore(path: directory.appendingPathComponent("checkpoint.sqlite").path)
            let runner = try ApplyRunner(plan: plan, checkpoint: checkpoint, connections: connections,
                                         options: ApplyOptions(concurrency: concurrency))
            (report, applySeconds) = try await measure { try await runner.run() }
        }
        guard report.outcome == .complete else { throw ApplyBenchError.incomplete("\(report.outcome)") }
        let totals = report.totals
        let writeSeconds = Double(report.chunks.reduce(0) { $0 + $1.writeMilliseconds }) / 1_000
        let fetchSeconds = Double(report.chunks.reduce(0) { $0 + $1.fetchMilliseconds }) / 1_000

        // The same rows, plain COPY into an identical empty table (same unique index), through psql.
        let rows = directory.appendingPathComponent("bars.copy").path
        let symbolRows = directory.appendingPathComponent("symbols.copy").path
        try shell(psql, [db.url, "-q", "-c", "\\copy symbols (id, ticker) TO '\(symbolRows)'"])
        try shell(psql, [db.url, "-q", "-c",
                         "\\copy ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider) TO '\(rows)'"])
        let target = try TestDatabase.fresh(schema: .freshInstall)
        try shell(psql, [target.url, "-q", "-c", "\\copy symbols (id, ticker) FROM '\(symbolRows)'"])
        let (_, copySeconds) = try measureSync {
            try shell(psql, [target.url, "-q", "-c",
                             "\\copy ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider) FROM '\(rows)'"])
        }
        let copied = try target.connection.query("SELECT count(*) FROM ohlc_bars").scalar(as: Int.self)
        guard copied == totals.inserted else { throw ApplyBenchError.incomplete("COPY loaded \(copied) rows, apply \(totals.inserted)") }

        let applyRate = Double(totals.inserted) / applySeconds
        let writeRate = Double(totals.inserted) / (writeSeconds / Double(concurrency))
        let copyRate = Double(copied) / copySeconds
        print(String(format: "apply (concurrency %d): %d chunks, %d requests, %d bars fetched (%d off-grid), %d inserted",
                     concurrency, report.chunks.count, totals.requests, totals.fetched, totals.offGrid, totals.inserted))
        print(String(format: "apply (concurrency %d): end to end %.1f s = %.0f bars/s (fetch+decode %.1f s, upsert %.1f s, summed over workers; the stale-plan scan once, as `gaps` took %.1f s)",
                     concurrency, applySeconds, applyRate, fetchSeconds, writeSeconds, scanSeconds))
        print(String(format: "apply (concurrency %d): upsert phase %.0f bars/s; plain COPY via psql %.2f s = %.0f bars/s",
                     concurrency, writeRate, copySeconds, copyRate))
        print(String(format: "apply (concurrency %d): end-to-end / COPY = %.2f; upsert phase / COPY = %.2f (goal >= 0.50)",
                     concurrency, applyRate / copyRate, writeRate / copyRate))
    }

    private static func findPsql() throws -> String {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/psql" }
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
                .map { "/usr/lib/postgresql/\($0)/bin/psql" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ApplyBenchError.noPsql
        }
        return found
    }

    private static func shell(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-v", "ON_ERROR_STOP=1"] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ApplyBenchError.psqlFailed(process.terminationStatus) }
    }

    private static func measureSync<T>(_ body: () throws -> T) throws -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

enum ApplyBenchError: Error, CustomStringConvertible {
    case incomplete(String)
    case noPsql
    case psqlFailed(Int32)

    var description: String {
        switch self {
        case let .incomplete(what): "the apply benchmark did not complete: \(what)"
        case .noPsql: "psql not found on PATH or in /usr/lib/postgresql/*/bin"
        case let .psqlFailed(status): "psql exited with \(status)"
        }
    }
}
