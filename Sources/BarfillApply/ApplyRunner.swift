import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Dispatch
import Foundation
import Synchronization

/// Runs a plan chunk by chunk with workers sharing the providers' rate limiters; each chunk goes
/// through `ChunkPipeline` (precheck, fetch, keep on grid, write, checkpoint).
public final class ApplyRunner: Sendable {
    public let plan: Plan
    public let planPath: String?
    /// The checkpoint's key for this plan: its content hash (`created_at` left out).
    public let planKey: String
    private let checkpoint: CheckpointStore
    private let connections: WorkerWiring
    private let options: ApplyOptions
    private let control: ApplyControl
    private let onEvent: @Sendable (ApplyEvent) -> Void
    private let grids: [Timeframe: Grid]
    private let gridOptions: GridOptions

    /// Checks that the plan was made with this barfill's calendar and a grid it knows.
    public init(plan: Plan, planPath: String? = nil, checkpoint: CheckpointStore, connections: WorkerWiring,
                options: ApplyOptions = ApplyOptions(), control: ApplyControl = ApplyControl(),
                onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in }) throws(ApplyError) {
        let calendar = MarketCalendar.xnys
        guard plan.calendar.name == calendar.name, plan.calendar.version == calendar.version else {
            throw .planCalendarMismatch(plan: "\(plan.calendar.name) \(plan.calendar.version)",
                                        here: "\(calendar.name) \(calendar.version)")
        }
        guard let gridOptions = GridOptions(description: plan.calendar.grid) else {
            throw .unknownGrid(plan.calendar.grid)
        }
        guard options.concurrency >= 1 else { throw .invalidOption("--concurrency must be at least 1") }
        self.plan = plan
        self.planPath = planPath
        self.planKey = plan.contentHash
        self.checkpoint = checkpoint
        self.connections = connections
        self.options = options
        self.control = control
        self.onEvent = onEvent
        var grids: [Timeframe: Grid] = [:]
        for timeframe in Set(plan.chunks.map(\.timeframe)) {
            grids[timeframe] = Grid(timeframe: timeframe, options: gridOptions, calendar: calendar)
        }
        self.grids = grids
        self.gridOptions = gridOptions
    }

    // MARK: The run

    private final class Shared: Sendable {
        let state = Mutex(RunState())
        init() {}
        func withLock<T>(_ body: (inout RunState) throws -> T) rethrows -> T { try state.withLock { try body(&$0) } }
    }

    private struct RunState {
        var next = 0
        var results: [ChunkResult] = []
        var requests = 0
        var stop: ApplyStop?
        var warnings: [String] = []
    }

    /// Executes every chunk not finished by an earlier run. Throws only for what stops the whole run
    /// before or outside a chunk (no database, the checkpoint failing); per-chunk trouble is in the report.
    public func run() async throws -> ApplyReport {
        let startedAt = Self.now()
        try await checkSchema()
        let keys = plan.chunks.map { ChunkKey(id: $0.id, symbol: $0.symbol.value, timeframe: $0.timeframe) }
        let checkpoint = self.checkpoint
        let planKey = self.planKey
        try await offPool { try checkpoint.begin(planKey: planKey, chunks: keys, at: startedAt) }
        let finished = try await offPool { try checkpoint.finishedChunkIDs(planKey: planKey) }
        let todo = finished.isEmpty ? plan.chunks : plan.chunks.filter { !finished.contains($0.id) }
        let alreadyFinished = plan.chunks.count - todo.count
        try await restoreRateLimits()

        let state = Shared()
        // Only before any chunk is finished: once this plan's own fills are in, fingerprints differ by design.
        if finished.isEmpty {
            try await checkStaleness(todo, state: state)
        }
        onEvent(.began(chunks: plan.chunks.count, alreadyFinished: alreadyFinished,
                       requests: todo.reduce(0) { $0 + $1.requests }, missingBars: todo.reduce(0) { $0 + $1.missingBars }))

        // A stop ends waits for the rate limiter at once: a chunk whose request has not gone out
        // is left pending, rather than holding the stop for up to a provider's window.
        for limiter in connections.limiters.values {
            control.onStop { Task { await limiter.stopGranting() } }
        }
        // One --max-requests budget for the run, whichever providers spend it.
        let allowance = RequestAllowance(maxRequests: options.maxRequests)
        for limiter in connections.limiters.values { await limiter.share(allowance) }
        let pipeline = self.pipeline
        let workers = min(options.concurrency, todo.count)
        if workers > 0 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { try await self.work(todo, state: state, pipeline: pipeline) }
                }
                try await group.waitForAll()
            }
        }
        try await saveRateLimits()

        let final = state.withLock { $0 }
        // A chunk that failed for good needs a person, so it outranks a resumable stop; chunks left
        // pending by transient faults (5xx or garbled answers after the retries) are resumable.
        let permanent = final.results.filter { $0.status == .failed }
        let unfinished = final.results.filter { $0.status == .pending }
        let outcome: ApplyOutcome
        if !permanent.isEmpty {
            outcome = .failed(chunks: permanent.count)
        } else if let stop = final.stop {
            outcome = .stopped(stop)
        } else if !unfinished.isEmpty {
            outcome = .stopped(.transientFaults(chunks: unfinished.count))
        } else {
            outcome = .complete
        }
        return ApplyReport(planKey: planKey, planPath: planPath, startedAt: startedAt, finishedAt: Self.now(),
                           outcome: outcome, dryRun: false, planChunks: plan.chunks.count,
                           alreadyFinished: alreadyFinished, chunks: final.results, warnings: final.warnings)
    }

    /// What a run would do, without touching the database or any provider.
    public func dryRun() async throws -> ApplyReport {
        let checkpoint = self.checkpoint
        let planKey = self.planKey
        let progress = try await offPool { try checkpoint.progress(planKey: planKey) }
        let now = Self.now()
        let results = plan.chunks.map { chunk in
            let status = progress[chunk.id]?.status ?? .pending
            return ChunkResult(id: chunk.id, symbol: chunk.symbol.value, timeframe: chunk.timeframe,
                               provider: chunk.provider, from: chunk.from, to: chunk.to, missingBars: chunk.missingBars,
                               status: status == .running ? .pending : status,
                               counts: ChunkCounts(requests: status.isFinished ? 0 : chunk.requests),
                               message: nil, milliseconds: 0)
        }
        let finished = results.filter { $0.status.isFinished }.count
        return ApplyReport(planKey: planKey, planPath: planPath, startedAt: now, finishedAt: now, outcome: .complete,
                           dryRun: true, planChunks: plan.chunks.count, alreadyFinished: finished,
                           chunks: results, warnings: [])
    }

    /// One worker: its own database connection and provider clients, taking chunks in plan order.
    private func work(_ todo: [Plan.Chunk], state: Shared, pipeline: ChunkPipeline) async throws {
        let database = try await WorkerDatabase.connect(url: connections.databaseURL, label: "barfill.apply.worker")
        // A stop cancels a long statement rather than waiting for it; its chunk stays pending.
        control.onStop { [weak database] in database?.cancel() }
        var providers: [ProviderName: any BarProvider] = [:]
        while let chunk = nextChunk(todo, state: state) {
            let provider: any BarProvider
            if let made = providers[chunk.provider] {
                provider = made
            } else {
                guard let limiter = connections.limiters[chunk.provider] else {
                    preconditionFailure("no rate limiter for \(chunk.provider.rawValue)")
                }
                provider = try connections.makeProvider(chunk.provider, limiter)
                providers[chunk.provider] = provider
            }
            let (result, stop) = try await pipeline.run(chunk, database: database, provider: provider)
            state.withLock { s in
                s.results.append(result)
                s.requests += result.counts.requests
                if let stop, s.stop == nil { s.stop = stop }
            }
            onEvent(.chunkFinished(result))
            if let stop { onEvent(.stopping(stop)) }
        }
    }

    /// The next chunk to work on, or nil when the plan is done or the run is stopping.
    private func nextChunk(_ todo: [Plan.Chunk], state: Shared) -> Plan.Chunk? {
        state.withLock { s in
            if s.stop != nil { return nil }
            // Nothing left is a finished run, even when the budget or the deadline ran out with the last chunk.
            guard s.next < todo.count else { return nil }
            if let stop = control.stopRequested { s.stop = stop; return nil }
            if let deadline = options.deadline, Date().timeIntervalSince1970 >= deadline {
                s.stop = .deadline
                return nil
            }
            if let max = options.maxRequests, s.requests >= max {
                s.stop = .requestBudget
                return nil
            }
            defer { s.next += 1 }
            return todo[s.next]
        }
    }

    /// The steps every chunk goes through, wired to this run's checkpoint and limiters.
    private var pipeline: ChunkPipeline {
        ChunkPipeline(planKey: planKey, checkpoint: checkpoint, grids: grids, options: options, onEvent: onEvent,
                      rateLimitStates: { [self] in await self.rateLimitStates() },
                      applyStop: { [self] reason, provider in await self.stop(for: reason, provider: provider) })
    }

    private func stop(for reason: StopReason, provider: ProviderName) async -> ApplyStop {
        switch reason {
        case let .rateLimited(resumeAfter):
            // The limiter speaks nominal time; the report and the next run use the wall clock.
            let clock = await connections.limiters[provider]?.clock ?? .system
            let real = clock.anchor + (resumeAfter - clock.anchor) * clock.timeScale
            return .rateLimited(provider: provider, resumeAfter: Int64(real.rounded(.up)))
        case .requestBudgetExhausted: return .requestBudget
        case .deadlineReached: return .deadline
        case .cancelled: return .signal
        // The budget lives in the database: losing it is losing the database, resumable.
        case .sharedBudgetUnavailable: return .databaseLost
        }
    }

    // MARK: Staleness

    /// apply writes barfill's own tables (ledger, status) in every chunk's transaction: without
    /// them every chunk would fail the same way, so say once what to do.
    private func checkSchema() async throws {
        let database = try await PostgresDatabase.connect(url: connections.databaseURL, label: "barfill.apply.schema")
        let pending = try await database.run { connection in try Migrator(connection: connection).pending().map(\.name) }
        guard pending.isEmpty else { throw ApplyError.notMigrated(pending: pending) }
    }

    private func checkStaleness(_ todo: [Plan.Chunk], state: Shared) async throws {
        let wanted = Set(todo.map { SeriesKey($0) })
        guard !wanted.isEmpty else { return }
        let plan = self.plan
        let options = self.gridOptions
        // The database was reached a moment ago: a restart now is a loss mid-run, retried, else resumable.
        let database = try await WorkerDatabase.reopen(url: connections.databaseURL, label: "barfill.apply.staleness")
        let (stale, notes) = try await database.run { connection in
            try StalenessCheck.staleSeries(of: plan, among: wanted, options: options, connection: connection)
        }
        for note in notes {
            state.withLock { $0.warnings.append(note) }
            onEvent(.warning(note))
        }
        guard !stale.isEmpty else { return }
        if self.options.strict { throw ApplyError.stalePlan(series: stale) }
        let shown = stale.prefix(5).joined(separator: ", ") + (stale.count > 5 ? " and \(stale.count - 5) more" : "")
        let warning = "stale plan: the database changed since the plan was made for \(shown); each chunk is re-checked before it is fetched"
        state.withLock { $0.warnings.append(warning) }
        onEvent(.warning(warning))
    }

    // MARK: Rate-limit state

    private func restoreRateLimits() async throws {
        let checkpoint = self.checkpoint
        for (provider, limiter) in connections.limiters {
            guard let data = try await offPool({ try checkpoint.rateLimitState(provider: provider.rawValue) }),
                  let saved = try? JSONDecoder().decode(RateLimiter.State.self, from: data) else { continue }
            await limiter.restore(saved)
        }
    }

    private func saveRateLimits() async throws {
        let checkpoint = self.checkpoint
        let now = Self.now()
        for (provider, data) in await rateLimitStates() {
            try await offPool { try checkpoint.saveRateLimitState(data, provider: provider, at: now) }
        }
    }

    /// Each limiter's state, encoded for the checkpoint, by provider name.
    private func rateLimitStates() async -> [String: Data] {
        var states: [String: Data] = [:]
        for (provider, limiter) in connections.limiters {
            if let data = try? JSONEncoder().encode(await limiter.state) { states[provider.rawValue] = data }
        }
        return states
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

