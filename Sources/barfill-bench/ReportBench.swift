// barfill-bench report: the coverage report of a whole universe. 1,000 h1 series × 1 year with
// 0.5% holes are loaded with one INSERT … SELECT over the grid's slot keys, then `barfill report`
// writes the page twice in the same run: as it does by default (the overview, heatmaps for the first
// 10 series that miss bars) and with `--details all` (every series' heatmap, the page the report
// wrote before the overview, plus the overview) as the baseline. For each: generation time and peak
// RSS of the barfill process (wait4), the page's size, and headless Chromium's load time
// (navigation to the load event plus a forced layout, browser start-up excluded, best of 3:
// scripts/check-report-chromium --load-time).
//
// Environment: BARFILL_TEST_DATABASE_URL (from scripts/with-postgres); BARFILL_BENCH_SYMBOLS
// (default 1000) to run smaller. The `barfill` executable must sit beside barfill-bench; run from
// the repository root (as `make bench` does) with Chromium on PATH (or CHROMIUM).
import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation

enum ReportBench {
    static let from = NewYork.midnight(LocalDate(year: 2025, month: 1, day: 1)!)
    static let until = NewYork.midnight(LocalDate(year: 2026, month: 1, day: 1)!)

    static func run() async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_SYMBOLS"] ?? "") ?? 1_000
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("barfill")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ReportBenchError("the barfill executable is not beside barfill-bench (\(binary.path)); build both first")
        }
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let connection = db.connection
        let grid = Grid(timeframe: .h1)
        let keys = grid.slots(from: from, until: until).map(\.start)

        try connection.query("INSERT INTO symbols (ticker) SELECT 'S' || lpad(n::text, 4, '0') FROM generate_series(1, $1::int) n",
                             [symbols])
        // A hole where a hash of ticker and key falls in 5 of 1,000 buckets: 0.5%, the same every run.
        let (_, loadSeconds) = try measureSync {
            try connection.query("""
                INSERT INTO ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
                SELECT s.id, 'h1', to_timestamp(k), 100, 101, 99, 100.5, 1000, 'polygon'
                FROM symbols s CROSS JOIN unnest($1::bigint[]) AS k
                WHERE abs(hashtext(s.ticker || ':' || k::text)) % 1000 >= 5
                """, [keys])
        }
        try connection.query("VACUUM ANALYZE ohlc_bars")
        let bars = try connection.query("SELECT count(*) FROM ohlc_bars").int(0, 0) ?? 0
        let expected = symbols * keys.count
        print(String(format: "report: loaded %d h1 bars (%d symbols × %d slots, %d holes) in %.1f s",
                     bars, symbols, keys.count, expected - bars, loadSeconds))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-bench-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (label, extra) in [("overview, 10 heatmaps (default)", [String]()), ("baseline --details all", ["--details", "all"])] {
            let page = directory.appendingPathComponent("report.html").path
            let run = try spawn(binary.path, ["report", "--database", db.url, "--html", page,
                                              "--from", "2025-01-01", "--until", "2026-01-01"] + extra)
            guard run.status == 0 else { throw ReportBenchError("barfill report \(extra) exited with \(run.status)") }
            let size = (try FileManager.default.attributesOfItem(atPath: page)[.size] as? Int) ?? 0
            let best: String
            do {
                let (seconds, runs) = try chromiumLoad(page: page, runs: 3)
                best = String(format: "%.2f s (best of %d)", seconds, runs)
            } catch {
                best = "failed (\(error))"
            }
            print(String(format: "report: %@: generated in %.2f s, peak RSS %.0f MB, page %.2f MB (%d bytes), Chromium load %@",
                         label, run.seconds, Double(run.maxRSSKilobytes) / 1024, Double(size) / 1e6, size, best))
            try? FileManager.default.removeItem(atPath: page)
        }
    }

    /// Chromium's load time of a page, start-up excluded: navigation to the load event plus a forced
    /// layout, best of `runs` in one headless browser (scripts/check-report-chromium --load-time).
    private static func chromiumLoad(page: String, runs: Int) throws -> (seconds: Double, runs: Int) {
        let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("scripts/check-report-chromium")
        guard FileManager.default.isExecutableFile(atPath: script.path) else {
            throw ReportBenchError("run from the repository root: \(script.path) is missing")
        }
        let process = Process()
        process.executableURL = script
        process.arguments = ["--load-time", String(runs), page]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let words = output.split(separator: "\n").last(where: { $0.hasPrefix("load-seconds ") })?.split(separator: " ") ?? []
        guard process.terminationStatus == 0, words.count == 4, let seconds = Double(words[1]), let done = Int(words[3]) else {
            throw ReportBenchError("check-report-chromium --load-time exited with \(process.terminationStatus)")
        }
        return (seconds, done)
    }

    /// Runs a program with stdout and stderr to /dev/null and returns its exit status, wall time and
    /// peak RSS (from wait4, so the figure is this child's alone); killed after `timeout` seconds.
    private static func spawn(_ path: String, _ arguments: [String], timeout: Double = 3_600)
        throws -> (status: Int32, seconds: Double, maxRSSKilobytes: Int) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw ReportBenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid { break }
            if Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 > timeout { kill(pid, SIGKILL) }
            usleep(10_000)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // Exit status when it exited, 128 + signal when a signal ended it (as a shell reports it).
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, seconds, usage.ru_maxrss)
    }
}

struct ReportBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
