// barfill-bench work: backfill on demand, end to end. `barfill work --follow --poll 1s` runs against
// the simulated provider with no rate limit; for each of 20 symbols in turn, a watchlist insert is
// committed and the time until both of its requests (2 years of h1 and d1, the defaults) are done,
// every bar stored, is taken. Today's answer without the queue: the next 6-hourly run.
//
// Environment: BARFILL_TEST_DATABASE_URL (from scripts/with-postgres); BARFILL_BENCH_WORK_SYMBOLS
// (default 20). The `barfill` executable must sit beside barfill-bench (`swift build` builds both).
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillTestSupport
import Foundation
import BarfillSimulator

enum WorkBench {
    static func run() async throws {
        let symbols = Int(ProcessInfo.processInfo.environment["BARFILL_BENCH_WORK_SYMBOLS"] ?? "") ?? 20
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("barfill")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw WorkBenchError("the barfill executable is not beside barfill-bench (\(binary.path)); build both first")
        }
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let simulator = try SimulatedProvider()
        defer { simulator.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-bench-work-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let worker = Process()
        worker.executableURL = binary
        worker.arguments = ["work", "--follow", "--poll", "1s", "--rate", "massive=1000000/min",
                            "--checkpoint", directory.appendingPathComponent("work.sqlite").path]
        worker.environment = ["PATH": "/usr/bin:/bin", "DATABASE_URL": db.url, "MASSIVE_API_KEY": "bench-key-0000000000000002",
                              "MASSIVE_BASE_URL": simulator.massiveBaseURL]
        let logPath = ProcessInfo.processInfo.environment["BARFILL_BENCH_WORK_LOG"]
        if let logPath { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        worker.standardError = logPath.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.nullDevice
        worker.standardOutput = FileHandle.nullDevice
        try worker.run()
        defer { if worker.isRunning { worker.terminate() } }

        let list = try db.connection.query("INSERT INTO watchlists (name) VALUES ('bench') RETURNING id::text").scalar()!
        var latencies: [Double] = []
        var bars = 0
        for n in 1...symbols {
            let symbol = try db.insertSymbol("W" + String(format: "%03d", n))
            let start = DispatchTime.now().uptimeNanoseconds
            try db.connection.query("INSERT INTO watchlist_items (watchlist_id, symbol_id) VALUES ($1::uuid, $2::uuid)", [list, symbol])
            while true {
                let row = try db.connection.query("""
                    SELECT count(*) FILTER (WHERE state = 'done') AS done, count(*) FILTER (WHERE state = 'failed') AS failed,
                           sum(bars_inserted)::bigint AS bars
                    FROM barfill.requests WHERE symbol_id = $1::uuid
                    """, [symbol]).onlyRow()
                if try row.decode("failed", as: Int.self) > 0 { throw WorkBenchError("a request of symbol \(n) failed") }
                if try row.decode("done", as: Int.self) == 2 {
                    bars += try row.decode("bars", as: Int?.self) ?? 0
                    break
                }
                guard worker.isRunning else { throw WorkBenchError("barfill work --follow exited with \(worker.terminationStatus)") }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        worker.terminate()   // SIGTERM: gives its leases back and exits
        while worker.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        let gapsLeft = try db.connection.query("SELECT coalesce(sum(gaps_left), 0)::bigint FROM barfill.requests").scalar(as: Int.self)

        print("work: latencies " + latencies.map { String(format: "%.2f", $0) }.joined(separator: " "))
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)] }
        print(String(format: "work: watchlist insert → 2 years of h1 and d1 stored, %d symbols (%d bars, %d gaps left), poll 1s: p50 %.2f s, p95 %.2f s, max %.2f s",
                     symbols, bars, gapsLeft, percentile(0.50), percentile(0.95), latencies.last ?? 0))
        print("work: without the queue, the next 6-hourly scheduled run: up to 21600 s")
        print("work: worker exited \(worker.terminationStatus) on SIGTERM")
    }
}

struct WorkBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
