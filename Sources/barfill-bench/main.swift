// barfill-bench [NAME ...]: runs the named benchmarks (all when none), printing one line per figure.
// `make bench` runs it in release mode inside scripts/with-postgres.
import Foundation

/// One benchmark: a name for the command line and a body that prints its figures.
struct Benchmark {
    let name: String
    let run: () async throws -> Void
}

let benchmarks: [Benchmark] = [
    // Each benchmark file adds one line here.
    Benchmark(name: "calendar", run: CalendarBench.run),
    Benchmark(name: "http", run: httpBenchmark),
    Benchmark(name: "gaps", run: GapScanBench.run),
    Benchmark(name: "gaps-m15", run: GapScanBench.runM15),
    Benchmark(name: "apply", run: ApplyBench.run),
    Benchmark(name: "bigplan", run: BigPlanBench.run),
    Benchmark(name: "budget", run: BudgetBench.run),
    Benchmark(name: "work", run: WorkBench.run),
    Benchmark(name: "report", run: ReportBench.run),
]

// One phase of the big-plan benchmark, run as a child so its peak memory is its own.
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == BigPlanBench.phaseFlag {
    do { try await BigPlanBench.phase(Array(CommandLine.arguments.dropFirst(2))) } catch {
        FileHandle.standardError.write(Data("barfill-bench: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

let wanted = Set(CommandLine.arguments.dropFirst())
let unknown = wanted.subtracting(benchmarks.map(\.name))
if !unknown.isEmpty {
    FileHandle.standardError.write(Data("barfill-bench: unknown benchmark(s) \(unknown.sorted()); known: \(benchmarks.map(\.name))\n".utf8))
    exit(64)
}
for benchmark in benchmarks where wanted.isEmpty || wanted.contains(benchmark.name) {
    print("== \(benchmark.name)")
    do { try await benchmark.run() } catch {
        print("\(benchmark.name) failed: \(error)")
        exit(1)
    }
}

/// Wall-clock seconds of `body`, for benchmark figures.
func measure<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try await body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
