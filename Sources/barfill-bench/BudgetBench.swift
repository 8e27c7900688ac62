// barfill-bench budget: the shared provider budget (issue 13).
// 1. Grants per second (grant + answer, as every request costs) with 1, 4 and 16 clients on one
//    key, each on its own connection, directly and through the pooler when there is one. The limit
//    (100,000/s) does not bind: this is the cost of the grant path itself.
// 2. apply throughput with 1, 2 and 4 "processes" (each its own limiter, shared-budget connection,
//    checkpoint and shard of the plan, as separate runners have) at 200 requests/s with 40 ms per
//    answer, against a simulator enforcing 200/s; then 4 × 4 workers (16 requests in flight).
//
// Environment: BARFILL_TEST_DATABASE_URL / BARFILL_TEST_POOLER_URL (from scripts/with-postgres);
// BARFILL_BENCH_BUDGET_SERIES (default 400) empty d1 series, one request each.
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import BarfillSimulator

enum BudgetBench {
    static func run() async throws {
        try await grants()
        try await applyThroughput()
    }

    // MARK: Grants

    static func grants() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        var routes: [(String, () throws -> PostgresConnection)] = [("direct", db.connect)]
        if db.poolerURL != nil { routes.append(("pgbouncer", { try db.connectThroughPooler()! })) }
        for (route, connect) in routes {
            for clients in [1, 4, 16] {
                let connections = try (0..<clients).map { _ in Unchecked(try connect()) }
                let seconds = 3.0
                let (counts, elapsed) = try await measure {
                    try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                        for connection in connections {
                            group.addTask { try await onThread { try grantLoop(connection.value, seconds: seconds) } }
                        }
                        return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
                    }
                }
                print(String(format: "budget grants (%@, %2d clients): %6.0f grants/s (grant + answer each; %d granted, %d refused) in %.1f s",
                             route, clients, Double(counts.0) / elapsed, counts.0, counts.1, elapsed))
            }
        }
    }

    private static func grantLoop(_ connection: PostgresConnection, seconds: Double) throws -> (Int, Int) {
        let store = ProviderBudgetStore(connection: connection)
        let end = Date().addingTimeInterval(seconds)
        var granted = 0
        var refused = 0
        while Date() < end {
            switch try store.grant(provider: "massive", keyFingerprint: "bench", limits: [(100_000, 1)], inFlightSeconds: 120) {
            case let .granted(id):
                try store.answered(id)
                granted += 1
            case .wait:
                refused += 1
            }
        }
        return (granted, refused)
    }

    // MARK: apply with several processes

    static let from = NewYork.midnight(LocalDate(year: 2024, month: 1, day: 1)!)
    static let until = NewYork.midnight(LocalDate(year: 2024, month: 2, day: 1)!)
    static let key = APIKey("bench-budget-key-000000000001")!

    static func applyThroughput() async throws {
        let series = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_BUDGET_SERIES"] ?? "") ?? 400
        var rates: [Int: Double] = [:]
        for (processes, workers) in [(1, 1), (2, 1), (4, 1), (4, 4)] {
            let rate = try await applyOnce(series: series, processes: processes, workers: workers)
            if workers == 1 { rates[processes] = rate }
            let scaling = String(format: ", %.2f× one process with one worker", rate / (rates[1] ?? rate))
            print(String(format: "budget apply (%d process(es) × %d worker(s), 200/s, 40 ms answers): %.1f requests/s%@",
                         processes, workers, rate, scaling))
        }
    }

    private static func applyOnce(series: Int, processes: Int, workers: Int) async throws -> Double {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try db.connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n",
                                [series])
        let request = ScanRequest(symbols: (1...series).map { "S" + String(format: "%04d", $0) }, timeframes: [.d1],
                                  from: from, until: until, full: true, provider: .massive)
        let scan = try GapScanner(connection: db.connection).scan(request)
        let plan = try Planner().plan(scans: scan.series, window: Plan.Window(from: from, until: until),
                                      source: Plan.Source(host: "bench", database: db.name), createdAt: 0)
        let limit = [RateLimit(requests: 200, per: 1)]
        var configuration = SimulatedProvider.Configuration(defaultPolicy: SimulatedProvider.KeyPolicy(massive: limit))
        configuration.latency = 0.04
        let simulator = try SimulatedProvider(configuration: configuration)
        defer { simulator.stop() }
        let settings = try ProviderSettings(provider: .massive, baseURL: simulator.massiveBaseURL, key: key)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-bench-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var runners: [ApplyRunner] = []
        for index in 1...processes {
            let limiter = RateLimiter(provider: .massive, key: key, limits: limit)
            await limiter.share(PostgresProviderBudget(databaseURL: db.url))
            let connections = WorkerWiring(databaseURL: db.url, limiters: [.massive: limiter]) { _, limiter in
                try MassiveClient(settings: settings, limiter: limiter)
            }
            let checkpoint = try CheckpointStore(path: directory.appendingPathComponent("checkpoint-\(index).sqlite").path)
            runners.append(try ApplyRunner(plan: plan.restricted(to: Shard(index: index, count: processes)!),
                                           checkpoint: checkpoint, connections: connections,
                                           options: ApplyOptions(concurrency: workers)))
        }
        let frozen = runners
        let (reports, seconds) = try await measure {
            try await withThrowingTaskGroup(of: ApplyReport.self) { group in
                for runner in frozen { group.addTask { try await runner.run() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        for report in reports where report.outcome != .complete { throw ApplyBenchError.incomplete("\(report.outcome)") }
        let limited = simulator.log.filter { $0.status == 429 }.count
        guard limited == 0 else { throw ApplyBenchError.incomplete("\(limited) answers were 429") }
        return Double(simulator.log.count) / seconds
    }

    private struct Unchecked<T>: @unchecked Sendable {
        // Each value is used by one thread at a time.
        let value: T
        init(_ value: T) { self.value = value }
    }

    /// Blocking libpq loops on their own threads, off the cooperative pool.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
