import ArgumentParser
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillSQLite
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the missing bars a plan lists, resumably.",
        discussion: """
            Runs each chunk of PLAN in order: re-checks what is still missing, fetches it from the \
            provider under its rate limit, and upserts it in one transaction, recording progress in \
            a SQLite checkpoint so a stopped run resumes where it stopped.
            Exit codes: 0 every chunk done or skipped; 75 stopped early but resumable (rate limit, \
            budget, deadline, signal, checkpoint in use, the database lost mid-run); 1 some chunks failed (listed) or the \
            database could not be reached; 65 invalid or \
            tampered plan or checkpoint; 64 usage.
            """)

    @Argument(help: "The plan file written by `barfill gaps`.")
    var plan: String

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The checkpoint file that makes runs resumable (default .barfill/checkpoint.sqlite; with --shard I/N, .barfill/checkpoint-shard-I-of-N.sqlite).")
    var checkpoint: String?

    @Option(help: ArgumentHelp("Apply only part I of N of the plan (1 ≤ I ≤ N): all chunks of a series in one part, parts balanced by requests.",
                               valueName: "I/N"))
    var shard: String?

    @OptionGroup var limits: RunLimitOptions

    @OptionGroup var rates: RateOptions

    @Flag(help: "Update rows whose values differ from the provider's (default: only insert missing bars).")
    var overwrite = false

    @Flag(help: "Treat a stale plan (the database changed since it was made) as an error.")
    var strict = false

    @Flag(help: "Print what would run, and touch neither the database nor any provider.")
    var dryRun = false

    @Option(help: "Write a machine-readable run report (JSON) to this file.")
    var report: String?

    /// Slots that ended less than this many seconds ago are never ledgered as confirmed empty.
    @Option(help: .hidden)
    var emptyGrace: Int64 = 86_400

    func validate() throws {
        if let shard, Shard(parsing: shard) == nil {
            throw ValidationError("--shard \(shard) is not I/N with 1 ≤ I ≤ N, e.g. 2/4")
        }
    }

    func run() async throws {
        try await reportingErrors("apply") { try await apply() }
    }

    private func apply() async throws {
        // Before any request: a report that cannot be written would otherwise fail the run at its end.
        try self.report.map(OutputFile.init)?.checkWritable()
        // Signals are caught from the start: a SIGTERM while the plan loads still ends resumably (75).
        let control = ApplyControl()
        let signals = SignalStop(control: control, command: "apply")
        defer { withExtendedLifetime(signals) {} }
        let part = shard.flatMap { Shard(parsing: $0) }
        let whole = try loadPlan(plan)
        let plan = part.map { whole.restricted(to: $0) } ?? whole
        let store = try await CheckpointStore.open(path: checkpoint ?? part.map(CheckpointStore.defaultPath(for:)) ?? CheckpointStore.defaultPath)
        let github = GitHubActions()
        let deadlineSeconds = limits.deadlineSeconds
        let wallDeadline = limits.wallDeadline
        let options = ApplyOptions(concurrency: limits.concurrency, overwrite: overwrite, strict: strict,
                                   maxRequests: limits.maxRequests, deadline: wallDeadline, emptyGraceSeconds: emptyGrace)

        let providers = Set(plan.chunks.map(\.provider))
        let clock = rates.clock
        let connections: WorkerWiring
        if dryRun {
            connections = WorkerWiring(databaseURL: database.resolvedURL, limiters: [:]) { _, _ in
                preconditionFailure("a dry run makes no requests")
            }
        } else {
            connections = try await ApplyProviders(providers: providers, limits: rates.limits(for:), maxRequests: limits.maxRequests,
                                             deadlineSeconds: deadlineSeconds, clock: clock)
                .connections(databaseURL: database.resolvedURL)
        }
        let progress = ProgressOutput(requestsPerMinute: try ApplyProviders.requestsPerMinute(
            providers: providers, limits: rates.limits(for:), clock: clock))
        let runner = try ApplyRunner(plan: plan, planPath: self.plan, checkpoint: store, connections: connections,
                                     options: options, control: control) { event in
            progress.handle(event)
            if case let .warning(text) = event { github.warning(text, title: "barfill apply") }
        }

        if dryRun {
            let report = try await runner.dryRun()
            printDryRun(report, plan: plan)
            try writeReport(report)
            return
        }

        let report = try await runner.run()
        progress.finish()

        printSummary(report)
        for chunk in report.failed {
            github.error("chunk \(chunk.id) \(chunk.symbol) \(chunk.timeframe.rawValue) \(UTC.format(chunk.from)) … \(UTC.format(chunk.to)) failed: \(chunk.message ?? "")",
                         title: "barfill apply")
        }
        if case let .stopped(stop) = report.outcome {
            github.warning("apply stopped early, resumable: \(stop)", title: "barfill apply")
        }
        github.appendSummary(ApplySummaryMarkdown.render(report))
        try writeReport(report)
        let code = ExitCodes.code(for: report.outcome)
        if code != ExitCodes.success { throw ExitCode(code) }
    }

    private func loadPlan(_ path: String) throws -> Plan {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ApplyError.unreadablePlan(path: path, reason: OutputFileError.reason(error))
        }
        return try Plan(decoding: bytes)
    }

    private func writeReport(_ report: ApplyReport) throws {
        guard let path = self.report else { return }
        try OutputFile(path).write(report.json().utf8)
    }

    private func printSummary(_ report: ApplyReport) {
        let t = report.totals
        var text = "apply: \(ApplySummaryMarkdown.headline(report.outcome)) — \(report.chunks.count) chunk(s) this run, \(report.alreadyFinished) finished before; "
        text += "\(t.requests) requests, \(t.fetched) bars fetched, \(t.inserted) inserted, \(t.updated) updated, \(t.unchanged) unchanged, \(t.rejected) rejected, \(t.confirmedEmpty) confirmed empty\n"
        if t.offGrid > 0 {
            // Not a contradiction of the plan's "off-grid bars": these came from the provider, outside the grid.
            text += "apply: \(t.offGrid) provider bars lay outside the grid (e.g. extended hours) and were not stored\n"
        }
        for chunk in report.failed {
            text += "  failed: \(chunk.id) \(chunk.symbol) \(chunk.timeframe.rawValue) \(UTC.format(chunk.from)) … \(UTC.format(chunk.to)): \(chunk.message ?? "")\n"
        }
        if case .stopped = report.outcome {
            text += "apply: run the same command again to resume\n"
        }
        StandardError.write(text)
    }

    private func printDryRun(_ report: ApplyReport, plan: Plan) {
        var text = "apply --dry-run: \(report.planChunks) chunks, \(report.alreadyFinished) already finished\n"
        for chunk in report.chunks {
            let mark = chunk.status.isFinished ? chunk.status.rawValue : "would run"
            text += "  \(chunk.id) \(chunk.symbol) \(chunk.timeframe.rawValue) \(chunk.provider.rawValue) \(UTC.format(chunk.from)) … \(UTC.format(chunk.to)) \(chunk.missingBars) missing, \(chunk.counts.requests) request(s): \(mark)\n"
        }
        print(text, terminator: "")
    }
}

/// SIGINT/SIGTERM ask the run to stop after the chunks in flight; a second signal exits at once
/// (the checkpoint and the database are consistent at every instant, so that is safe too).
final class SignalStop {
    private let sources: [any DispatchSourceSignal]

    init(control: ApplyControl, command: String) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if control.stopRequested != nil { exit(number == SIGINT ? 130 : 143) }
                StandardError.write("\n\(command): signal received; finishing the chunk in flight, then stopping (send again to stop now)\n")
                control.requestStop(.signal)
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
