import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Dispatch
import Foundation
import Synchronization

/// Runs a plan chunk by chunk: precheck, fetch, keep on-grid bars, upsert with the ledger and
/// status in one transaction, then mark the chunk done in the checkpoint. The database commits
/// first, so a crash between the two only re-runs a chunk whose precheck then finds it filled.
public final class ApplyRunner: Sendable {
    public let plan: Plan
    public let planPath: String?
    /// The checkpoint's key for this plan: its content hash (`created_at` left out).
    public let planKey: String
    private let checkpoint: CheckpointStore
    private let connections: ApplyConnections
    private let options: ApplyOptions
    private let control: ApplyControl
    private let onEvent: @Sendable (ApplyEvent) -> Void
    private let grids: [Timeframe: Grid]
    private let gridOptions: GridOptions

    /// Checks that the plan was made with this barfill's calendar and a grid it knows.
    public init(plan: Plan, planPath: String? = nil, checkpoint: CheckpointStore, connections: ApplyConnections,
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
        /// The database went away: no worker starts another chunk.
        var halted: String?
        var warnings: [String] = []
    }

    /// Executes every chunk not finished by an earlier run. Throws only for what stops the whole run
    /// before or outside a chunk (no database, the checkpoint failing); per-chunk trouble is in the report.
    public func run() async throws -> ApplyReport {
        let startedAt = Self.now()
        try await checkSchema()
        let keys = plan.chunks.map { ChunkKey(id: $0.id, symbol: $0.symbol.value, timeframe: $0.timeframe.rawValue) }
        let checkpoint = self.checkpoint
        let planKey = self.planKey
        try await offPool { try checkpoint.begin(planKey: planKey, chunks: keys, at: startedAt) }
        let progress = try await offPool { try checkpoint.progress(planKey: planKey) }
        let todo = plan.chunks.filter { progress[$0.id]?.status.isFinished != true }
        let alreadyFinished = plan.chunks.count - todo.count
        try await restoreRateLimits()

        let state = Shared()
        // Only before any chunk is finished: once this plan's own fills are in, fingerprints differ by design.
        if !progress.values.contains(where: { $0.status.isFinished }) {
            try await checkStaleness(todo, state: state)
        }
        onEvent(.began(chunks: plan.chunks.count, alreadyFinished: alreadyFinished,
                       requests: todo.reduce(0) { $0 + $1.requests }, missingBars: todo.reduce(0) { $0 + $1.missingBars }))

        // A stop ends waits for the rate limiter at once: a chunk whose request has not gone out
        // is left pending, rather than holding the stop for up to a provider's window.
        for limiter in connections.limiters.values {
            control.onStop { Task { await limiter.stopGranting() } }
        }
        let workers = min(options.concurrency, todo.count)
        if workers > 0 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { try await self.work(todo, state: state) }
                }
                try await group.waitForAll()
            }
        }
        try await saveRateLimits()

        let final = state.withLock { $0 }
        // A chunk that failed for good needs a person, so it outranks a resumable stop; a chunk left
        // pending by a transient error (5xx after retries, the database gone) counts as failed unless
        // the run stopped anyway.
        let permanent = final.results.filter { $0.status == .failed }
        let unfinished = final.results.filter { $0.status == .pending }
        let outcome: ApplyOutcome
        if !permanent.isEmpty || final.halted != nil {
            outcome = .failed(chunks: max(permanent.count + (final.halted != nil ? unfinished.count : 0), 1))
        } else if let stop = final.stop {
            outcome = .stopped(stop)
        } else if !unfinished.isEmpty {
            outcome = .failed(chunks: unfinished.count)
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
    private func work(_ todo: [Plan.Chunk], state: Shared) async throws {
        let database = try await Database.connect(url: connections.databaseURL, label: "barfill.apply.worker")
        var providers: [ProviderName: any BarProvider] = [:]
        let cache = WorkerCache()
        while true {
            let pick: Plan.Chunk? = state.withLock { s in
                if s.halted != nil || s.stop != nil { return nil }
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
            guard let chunk = pick else { break }
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
            let outcome = try await process(chunk, database: database, provider: provider, symbols: cache)
            state.withLock { s in
                s.results.append(outcome.result)
                s.requests += outcome.result.counts.requests
                if let stop = outcome.stop, s.stop == nil { s.stop = stop }
                if let halt = outcome.halt, s.halted == nil { s.halted = halt }
            }
            onEvent(.chunkFinished(outcome.result))
            if let stop = outcome.stop { onEvent(.stopping(stop)) }
        }
    }

    // MARK: One chunk

    private struct ChunkOutcome {
        var result: ChunkResult
        var stop: ApplyStop?
        var halt: String?
    }

    private struct Precheck: Sendable {
        var symbolId: String?
        var ledgered: Set<Int64>
        var present: Set<Int64>
    }

    /// What one worker remembers between chunks: symbol ids by "TICKER timeframe", recorded once the
    /// timeframe was checked against the database's enum.
    private final class WorkerCache {
        var ids: [String: String] = [:]
    }

    private func process(_ chunk: Plan.Chunk, database: Database, provider: any BarProvider,
                         symbols: WorkerCache) async throws -> ChunkOutcome {
        let started = Self.now()
        let clock = DispatchTime.now().uptimeNanoseconds
        let checkpoint = self.checkpoint
        let planKey = self.planKey
        try await offPool { try checkpoint.markRunning(planKey: planKey, chunkID: chunk.id, at: started) }
        onEvent(.chunkStarted(id: chunk.id, symbol: chunk.symbol.value, timeframe: chunk.timeframe))

        var counts = ChunkCounts()
        var fetchNanoseconds: UInt64 = 0
        var writeNanoseconds: UInt64 = 0
        func finish(_ status: ChunkStatus, _ message: String?, stop: ApplyStop? = nil, halt: String? = nil,
                    retryAt: Int64? = nil) async throws -> ChunkOutcome {
            let elapsed = Int64((DispatchTime.now().uptimeNanoseconds - clock) / 1_000_000)
            let now = Self.now()
            let finalCounts = counts
            // The limiters' state goes in with the chunk's mark, so a run killed right after still resumes
            // knowing which requests are inside the provider's window.
            let limits = await self.rateLimitStates()
            if status.isFinished {
                try await offPool {
                    try checkpoint.markFinished(planKey: planKey, chunkID: chunk.id, status: status, counts: finalCounts,
                                                at: now, durationMilliseconds: elapsed, rateLimits: limits)
                }
            } else {
                try await offPool {
                    try checkpoint.markUnfinished(planKey: planKey, chunkID: chunk.id, permanent: status == .failed,
                                                  message: message, nextAttemptAt: retryAt,
                                                  requests: finalCounts.requests, at: now, rateLimits: limits)
                }
            }
            var result = ChunkResult(id: chunk.id, symbol: chunk.symbol.value, timeframe: chunk.timeframe,
                                     provider: chunk.provider, from: chunk.from, to: chunk.to,
                                     missingBars: chunk.missingBars, status: status, counts: finalCounts,
                                     message: message, milliseconds: elapsed)
            result.fetchMilliseconds = Int64(fetchNanoseconds / 1_000_000)
            result.writeMilliseconds = Int64(writeNanoseconds / 1_000_000)
            return ChunkOutcome(result: result, stop: stop, halt: halt)
        }

        // The plan's slots on this barfill's grid: a gap whose slot count differs was planned on another grid.
        guard let grid = grids[chunk.timeframe] else { preconditionFailure("grid built for every timeframe") }
        var slots: [Int] = []
        for gap in chunk.gaps {
            let ordinals = grid.ordinals(from: gap.from, until: gap.to)
            guard ordinals.count == gap.bars else {
                return try await finish(.failed, "gap \(UTC.format(gap.from)) … \(UTC.format(gap.to)) has \(gap.bars) slots in the plan but \(ordinals.count) on this grid; run `barfill gaps` again")
            }
            slots.append(contentsOf: ordinals)
        }
        let starts = slots.map { grid.slot(at: $0).start }

        // Precheck: what is still missing now. The symbol's id and the timeframe's support are looked
        // up once per worker; a chunk costs one statement here.
        let ticker = chunk.symbol.value
        let timeframe = chunk.timeframe
        let known = symbols.ids["\(ticker) \(timeframe.rawValue)"]
        let precheck: Precheck
        do {
            precheck = try await database.run { connection in
                var symbolId = known
                if symbolId == nil {
                    let store = try BarStore(connection: connection)
                    try store.checkSupported(timeframe)
                    symbolId = try store.symbols(tickers: [ticker])[ticker]?.id
                }
                guard let symbolId else { return Precheck(symbolId: nil, ledgered: [], present: []) }
                let answer = try PresentSlotsQuery.run(connection, symbolId: symbolId, timeframe: timeframe, slotStarts: starts)
                return Precheck(symbolId: symbolId, ledgered: answer.ledgered, present: answer.present)
            }
        } catch {
            return try await databaseTrouble(error, finish)
        }
        guard let symbolId = precheck.symbolId else {
            return try await finish(.failed, "symbol \(ticker) is not in the symbols table")
        }
        symbols.ids["\(ticker) \(timeframe.rawValue)"] = symbolId
        let missing = starts.filter { !precheck.ledgered.contains($0) && !precheck.present.contains($0) }
        if missing.isEmpty {
            return try await finish(.skipped, "already filled")
        }

        // Fetch.
        let fetched: FetchResult
        let fetchStart = DispatchTime.now().uptimeNanoseconds
        do {
            fetched = try await provider.fetch(ticker: chunk.symbol, timeframe: timeframe, from: chunk.from, to: chunk.to)
            fetchNanoseconds = DispatchTime.now().uptimeNanoseconds - fetchStart
        } catch {
            fetchNanoseconds = DispatchTime.now().uptimeNanoseconds - fetchStart
            let transient: Bool
            switch error {
            case let .transport(_, http): transient = http.isTransient
            case let .httpStatus(_, status, _): transient = status >= 500 || status == 408
            default: transient = false
            }
            return try await finish(transient ? .pending : .failed, error.localizedDescription,
                                    retryAt: transient ? Self.now() + 60 : nil)
        }
        counts.requests = fetched.requests
        counts.fetched = fetched.bars.count
        counts.rejected = fetched.rejections.count
        if case let .sharedBudgetUnavailable(reason) = fetched.stop {
            // The database that holds the shared budget went away: like losing it mid-chunk.
            return try await finish(.pending, fetched.stop?.description, halt: reason)
        }
        if let stop = fetched.stop {
            // A partial answer is dropped: the window is fetched whole next time, so the ledger never
            // records slots the provider was not asked about.
            let applyStop = await self.stop(for: stop, provider: chunk.provider)
            return try await finish(.pending, applyStop.description, stop: applyStop)
        }

        // Keep bars on the grid; the rest are counted as off-grid.
        let onGrid = fetched.bars.filter { grid.ordinal(of: $0.ts) != nil }
        counts.offGrid = fetched.bars.count - onGrid.count
        let answered = Set(onGrid.map(\.ts))
        let graceEnd = Self.now() - options.emptyGraceSeconds
        let silent = slots.filter { ordinal in
            let slot = grid.slot(at: ordinal)
            return !answered.contains(slot.start) && !precheck.present.contains(slot.start)
                && !precheck.ledgered.contains(slot.start) && slot.end <= graceEnd
        }
        let emptyRanges = Self.ranges(of: silent, on: grid)
        counts.confirmedEmpty = silent.count

        let stillMissing = Set(missing)

        // Upsert, ledger and status in one transaction.
        let providerName = chunk.provider
        let overwrite = options.overwrite
        let written: UpsertCounts
        let writeStart = DispatchTime.now().uptimeNanoseconds
        do {
            defer { writeNanoseconds = DispatchTime.now().uptimeNanoseconds - writeStart }
            written = try await database.run { connection in
                try connection.transaction { connection in
                    let store = try BarStore(connection: connection)
                    let counts: UpsertCounts
                    if overwrite {
                        counts = try store.upsert(bars: onGrid, symbolId: symbolId, timeframe: timeframe,
                                                  provider: providerName, overwrite: true)
                    } else {
                        // Bars for the slots the precheck found still missing go straight in by COPY
                        // (BarStore falls back to the upsert if another writer got there first); the
                        // chunk's other bars, for slots that held a bar when the plan was made, go
                        // through the upsert, which keeps what is stored.
                        let absent = onGrid.filter { stillMissing.contains($0.ts) }
                        let others = onGrid.filter { !stillMissing.contains($0.ts) }
                        let inserted = try store.insertAbsent(bars: absent, symbolId: symbolId,
                                                              timeframe: timeframe, provider: providerName)
                        let kept = try store.upsert(bars: others, symbolId: symbolId, timeframe: timeframe,
                                                    provider: providerName)
                        counts = UpsertCounts(inserted: inserted.inserted + kept.inserted,
                                              updated: inserted.updated + kept.updated,
                                              unchanged: inserted.unchanged + kept.unchanged)
                    }
                    try store.recordEmpty(ranges: emptyRanges, symbolId: symbolId, timeframe: timeframe,
                                          provider: providerName)
                    try store.updateStatus(symbolId: symbolId, timeframe: timeframe,
                                           result: "apply: \(counts.inserted) inserted, \(counts.updated) updated, \(silent.count) confirmed empty")
                    return counts
                }
            }
        } catch {
            return try await databaseTrouble(error, finish)
        }
        counts.inserted = written.inserted
        counts.updated = written.updated
        counts.unchanged = written.unchanged
        return try await finish(.done, nil)
    }

    /// A lost or refused connection stops the run (the chunk's transaction was not committed, the
    /// chunk is left for the next run); any other database error fails just this chunk.
    private func databaseTrouble(
        _ error: any Error,
        _ finish: (ChunkStatus, String?, ApplyStop?, String?, Int64?) async throws -> ChunkOutcome
    ) async throws -> ChunkOutcome {
        let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        if let error = error as? PostgresError {
            switch error {
            case .connectionLost, .cannotConnect:
                return try await finish(.pending, message, nil, message, nil)
            default:
                break
            }
        }
        return try await finish(.failed, message, nil, nil, nil)
    }

    /// Consecutive ordinals as half-open time ranges: first slot's start to last slot's end.
    static func ranges(of ordinals: [Int], on grid: Grid) -> [(from: Int64, to: Int64)] {
        var ranges: [(from: Int64, to: Int64)] = []
        var runStart: Int?
        var previous: Int?
        for ordinal in ordinals.sorted() {
            if let p = previous, ordinal == p + 1 {
                previous = ordinal
                continue
            }
            if let s = runStart, let p = previous { ranges.append((grid.slot(at: s).start, grid.slot(at: p).end)) }
            runStart = ordinal
            previous = ordinal
        }
        if let s = runStart, let p = previous { ranges.append((grid.slot(at: s).start, grid.slot(at: p).end)) }
        return ranges
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
        // Handled as the database going away before a stop is asked for; a signal is the nearest.
        case .sharedBudgetUnavailable: return .signal
        }
    }

    // MARK: Staleness

    /// apply writes barfill's own tables (ledger, status) in every chunk's transaction: without
    /// them every chunk would fail the same way, so say once what to do.
    private func checkSchema() async throws {
        let database = try await Database.connect(url: connections.databaseURL, label: "barfill.apply.schema")
        let pending = try await database.run { connection in try Migrator(connection: connection).pending().map(\.name) }
        guard pending.isEmpty else { throw ApplyError.notMigrated(pending: pending) }
    }

    private func checkStaleness(_ todo: [Plan.Chunk], state: Shared) async throws {
        let wanted = Set(todo.map { SeriesID($0) })
        guard !wanted.isEmpty else { return }
        let plan = self.plan
        let options = self.gridOptions
        let database = try await Database.connect(url: connections.databaseURL, label: "barfill.apply.staleness")
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

/// A series as plans name it.
struct SeriesID: Hashable, Sendable {
    var symbol: String
    var timeframe: Timeframe
    init(_ chunk: Plan.Chunk) {
        symbol = chunk.symbol.value
        timeframe = chunk.timeframe
    }
    init(symbol: String, timeframe: Timeframe) {
        self.symbol = symbol
        self.timeframe = timeframe
    }
}

/// Runs blocking work (SQLite with fsync) on a dispatch thread rather than the cooperative pool.
/// The work (and what it captured) is released before the caller resumes, so an object it used,
/// such as the checkpoint and its lock, is gone when the last reference the caller dropped is.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let job = BlockingJob(body)
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: job.run())
        }
    }
}

private final class BlockingJob<T: Sendable>: @unchecked Sendable {
    // Touched only by the one dispatch block that runs the job.
    private var body: (@Sendable () throws -> T)?

    init(_ body: @escaping @Sendable () throws -> T) { self.body = body }

    func run() -> Result<T, any Error> {
        guard let body else { preconditionFailure("a blocking job runs once") }
        self.body = nil
        return Result { try body() }
    }
}
