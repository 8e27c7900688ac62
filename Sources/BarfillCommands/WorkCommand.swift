import ArgumentParser
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Foundation

/// `barfill work`: drain the backfill request queue (`barfill.requests`).
struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the series the app asked for (barfill.requests), most urgent first.",
        discussion: """
            Claims requests under a lease (FOR UPDATE SKIP LOCKED), scans each request's series over its \
            window, plans, applies with a checkpoint of its own and records the result on the request. \
            Any number of workers may run at once. Provider keys come from the environment as for \
            `apply`; only providers with a key are used.
            With --once: drain what is runnable now and exit. With --follow: keep polling until \
            SIGINT/SIGTERM, which finish the chunk in flight, give back the leases and exit 0.
            Exit codes: 0 drained (or --follow stopped by a signal); 75 stopped early with work left \
            (rate limit, --max-requests, --deadline, signal during --once, checkpoint in use); 1 a \
            request failed for good, or the database cannot be reached; 64 usage.
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Drain what is runnable now, then exit.")
    var once = false

    @Flag(help: "Keep running: poll for new requests until SIGINT/SIGTERM.")
    var follow = false

    @Option(help: "With --follow: how long to wait between polls of an empty queue, e.g. 5s or 1m.")
    var poll: String = "5s"

    @Option(help: "The checkpoint file of this worker (one per concurrently running worker).")
    var checkpoint: String = ".barfill/work-checkpoint.sqlite"

    @OptionGroup var limits: RunLimitOptions

    @Option(help: "How long a claimed request stays ours without renewal (renewed every third of it), e.g. 5m.")
    var lease: String = "5m"

    @Option(help: "First retry delay after a transient failure (doubled per attempt, at most 1h), e.g. 30s.")
    var retryAfter: String = "30s"

    @OptionGroup var rates: RateOptions

    /// Slots that ended less than this many seconds ago are never ledgered as confirmed empty.
    @Option(help: .hidden)
    var emptyGrace: Int64 = 86_400

    func validate() throws {
        guard once != follow else { throw ValidationError("give exactly one of --once and --follow") }
        let durations: [(String, String?)] = [("--poll", poll), ("--lease", lease), ("--retry-after", retryAfter)]
        for (name, value) in durations {
            if let value, DurationText.seconds(value) == nil {
                throw ValidationError("\(name) \(value) is not a duration like 25m, 1h30m or 90s")
            }
        }
        if let seconds = DurationText.seconds(lease), seconds < 3 { throw ValidationError("--lease must be at least 3s") }
    }

    func run() async throws {
        try await reportingErrors("work") { try await work() }
    }

    private func work() async throws {
        let databaseURL = database.resolvedURL
        // Fails at start, before any claim, when the database is missing or not migrated.
        let pending = try await database.database().run { connection in
            try connection.query("SELECT to_regclass('barfill.requests') IS NOT NULL").scalar() == "t"
        }
        guard pending else { throw ApplyError.notMigrated(pending: ["0003_requests"]) }

        let store = try CheckpointStore(path: checkpoint)
        let deadlineSeconds = limits.deadlineSeconds
        let wallDeadline = limits.wallDeadline
        let clock = rates.clock
        // A request may name any provider: those with a key are ready, and a missing key is an error
        // only when no provider has one (a request for the other fails with that reason).
        var withKeys: Set<ProviderName> = []
        var missing: ProviderError?
        for provider in ProviderName.allCases {
            do {
                _ = try ProviderSettings.fromEnvironment(provider)
                withKeys.insert(provider)
            } catch {
                // `fromEnvironment` throws only ProviderError.
                guard case .missingKey = error else { throw error }
                if missing == nil { missing = error }
            }
        }
        if withKeys.isEmpty, let missing { throw missing }
        // The same wiring as apply, so every worker draws from the key's shared budget.
        let connections = try await ApplyProviders(providers: withKeys, limits: rates.limits(for:), maxRequests: limits.maxRequests,
                                                   deadlineSeconds: deadlineSeconds, clock: clock)
            .connections(databaseURL: databaseURL)
        let options = WorkOptions(
            apply: ApplyOptions(concurrency: limits.concurrency, maxRequests: limits.maxRequests, deadline: wallDeadline,
                                emptyGraceSeconds: emptyGrace),
            leaseSeconds: Int(DurationText.seconds(lease)!), retrySeconds: Double(DurationText.seconds(retryAfter)!))
        let control = ApplyControl()
        let worker = RequestWorker(connections: connections, checkpoint: store, options: options, control: control) { event in
            if case let .ended(outcome) = event { StandardError.write(Self.line(outcome)) }
        }
        let signals = SignalStop(control: control, command: "work")
        defer { withExtendedLifetime(signals) {} }

        if once {
            let report = try await worker.drain()
            StandardError.write(Self.summary(report.outcomes, stop: report.stop))
            if !report.failed.isEmpty { throw ExitCode(ExitCodes.failure) }
            if report.stop != nil { throw ExitCode(ExitCodes.resumable) }
            return
        }

        let pollSeconds = Double(DurationText.seconds(poll)!)
        var outcomes: [RequestOutcome] = []
        while control.stopRequested == nil {
            do {
                let report = try await worker.drain()
                outcomes += report.outcomes
                switch report.stop {
                case .deadline?, .requestBudget?:
                    StandardError.write(Self.summary(outcomes, stop: report.stop))
                    throw ExitCode(ExitCodes.resumable)
                default: break
                }
            } catch let error as PostgresError {
                // The database went away for a while: the leases expire on their own; try again after a poll.
                StandardError.write("work: \(error.errorDescription ?? "\(error)"); trying again in \(poll)\n")
            }
            if let wallDeadline, Date().timeIntervalSince1970 >= wallDeadline { break }
            let wakeAt = Date().addingTimeInterval(pollSeconds)
            while control.stopRequested == nil, Date() < wakeAt { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        StandardError.write(Self.summary(outcomes, stop: nil))
    }

    static func line(_ outcome: RequestOutcome) -> String {
        let r = outcome.request
        var text = "work: request \(r.id) \(r.ticker) \(r.timeframe.rawValue) (\(r.reason)) \(UTC.format(r.from)) … \(UTC.format(r.until)): "
        text += "\(outcome.end.rawValue); \(outcome.result.providerRequests) requests, \(outcome.result.barsInserted) bars inserted"
        if let gaps = outcome.result.gapsLeft { text += ", \(gaps) gaps left" }
        if let message = outcome.message { text += " — \(message)" }
        return text + "\n"
    }

    static func summary(_ outcomes: [RequestOutcome], stop: ApplyStop?) -> String {
        var counts: [RequestOutcome.End: Int] = [:]
        for outcome in outcomes { counts[outcome.end, default: 0] += 1 }
        var text = "work: \(outcomes.count) request(s)"
        let parts = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
        if !parts.isEmpty { text += ": " + parts.joined(separator: ", ") }
        text += "; \(outcomes.reduce(0) { $0 + $1.result.providerRequests }) provider requests, "
        text += "\(outcomes.reduce(0) { $0 + $1.result.barsInserted }) bars inserted\n"
        if let stop { text += "work: stopped early: \(stop); run again to go on\n" }
        return text
    }
}
