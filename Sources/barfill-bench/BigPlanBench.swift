// barfill-bench bigplan: a plan of about 100,000 chunks (1,000 empty h1 series × 21 years, the
// way `barfill gaps` makes it), written, read and validated (`plan show`), and `apply` started and
// resumed on it up to its first request. Each phase runs in a child process of this binary so its
// peak RSS (getrusage maxrss) is its own.
//
// Environment: BARFILL_TEST_DATABASE_URL (from scripts/with-postgres); BARFILL_BENCH_PLAN_SYMBOLS
// (default 1000) to run smaller.
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation

enum BigPlanBench {
    static let from = NewYork.midnight(LocalDate(year: 2004, month: 1, day: 1)!)
    static let until = NewYork.midnight(LocalDate(year: 2025, month: 1, day: 1)!)
    /// The first argument that makes this binary run one phase instead of benchmarks.
    static let phaseFlag = "--big-plan-phase"

    static func run() async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_PLAN_SYMBOLS"] ?? "") ?? 1_000
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try db.connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n",
                                [symbols])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-bench-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let planPath = directory.appendingPathComponent("plan.json").path
        let checkpointPath = directory.appendingPathComponent("checkpoint.sqlite").path

        let phases: [(name: String, label: String)] = [
            ("write", "scan + plan + write"),
            ("show", "read + validate + summarise (plan show)"),
            ("apply-start", "apply: start to first request"),
            ("apply-resume", "apply: resume to first request"),
        ]
        for phase in phases {
            let figures = try child([phaseFlag, phase.name, db.url, planPath, checkpointPath, String(symbols)])
            print("big plan: \(phase.label): \(figures)")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: planPath)[.size] as? Int) ?? 0
        print(String(format: "big plan: file %.1f MB", Double(size) / 1e6))
    }

    /// Runs one phase in this process and prints its figures (called from main.swift).
    static func phase(_ arguments: [String]) async throws {
        guard arguments.count == 5, let symbols = Int(arguments[4]) else { throw BigPlanBenchError.usage }
        let (name, url, planPath, checkpointPath) = (arguments[0], arguments[1], arguments[2], arguments[3])
        let start = DispatchTime.now().uptimeNanoseconds
        var detail = ""
        switch name {
        case "write":
            let connection = try PostgresConnection(url: url)
            let request = ScanRequest(symbols: (1...symbols).map { "S" + String(format: "%04d", $0) }, timeframes: [.h1],
                                      from: from, until: until, full: true, provider: .massive)
            let scan = try GapScanner(connection: connection).scan(request)
            let scanned = seconds(since: start)
            let plan = try Planner().plan(scans: scan.series, window: Plan.Window(from: from, until: until),
                                          source: Plan.Source(host: "bench", database: "bench"), createdAt: 0)
            let bytes = plan.encoded()
            try Data(bytes).write(to: URL(fileURLWithPath: planPath))
            detail = String(format: ", %d chunks (scan %.2f s)", plan.chunks.count, scanned)
        case "show":
            let bytes = try Data(contentsOf: URL(fileURLWithPath: planPath))
            let plan = try Plan(decoding: bytes)
            detail = ", \(plan.textSummary().utf8.count) bytes of summary"
        case "apply-start", "apply-resume":
            let plan = try Plan(decoding: try Data(contentsOf: URL(fileURLWithPath: planPath)))
            let limiter = RateLimiter(provider: .massive, key: APIKey("bench-key-0000000000000001")!,
                                      limits: [RateLimit(requests: 1_000_000, per: 1)])
            // No provider is ever reached: a budget of zero requests stops the run before its first chunk.
            let connections = WorkerWiring(databaseURL: url, limiters: [.massive: limiter]) { _, _ in
                throw BigPlanBenchError.usage
            }
            let checkpoint = try await CheckpointStore.open(path: checkpointPath)
            let runner = try ApplyRunner(plan: plan, checkpoint: checkpoint, connections: connections,
                                         options: ApplyOptions(maxRequests: 0))
            let report = try await runner.run()
            guard report.outcome == .stopped(.requestBudget) else { throw BigPlanBenchError.unexpected("\(report.outcome)") }
        default:
            throw BigPlanBenchError.usage
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        // CPU time beside wall time: on a shared machine the wall clock includes waiting for a core.
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        print(String(format: "%.2f s (CPU %.2f s), peak RSS %.0f MB%@", seconds(since: start), cpu,
                     Double(usage.ru_maxrss) / 1024, detail))
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Runs this binary with `arguments` and returns what it printed.
    private static func child(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BigPlanBenchError.childFailed(arguments[1], process.terminationStatus) }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

enum BigPlanBenchError: Error, CustomStringConvertible {
    case usage
    case unexpected(String)
    case childFailed(String, Int32)

    var description: String {
        switch self {
        case .usage: "usage: barfill-bench \(BigPlanBench.phaseFlag) write|show|apply-start|apply-resume URL PLAN CHECKPOINT SYMBOLS"
        case let .unexpected(what): "the big-plan apply did not stop at its request budget: \(what)"
        case let .childFailed(phase, status): "the big-plan phase \(phase) exited with \(status)"
        }
    }
}
