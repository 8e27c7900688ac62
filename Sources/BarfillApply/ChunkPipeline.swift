import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Dispatch
import Foundation
import Synchronization

/// One chunk from the plan to the checkpoint. `run` reads top to bottom: mark it running,
/// put the plan's gaps on the grid, precheck what is still missing, fetch, keep the bars on the
/// grid, write them with the ledger and status in one transaction, then mark the chunk in the
/// checkpoint. The database commits before the checkpoint does, so a crash between the two only
/// re-runs a chunk whose precheck then finds it filled.
struct ChunkPipeline: Sendable {
    let planKey: String
    let checkpoint: CheckpointStore
    let grids: [Timeframe: Grid]
    let options: ApplyOptions
    let onEvent: @Sendable (ApplyEvent) -> Void
    /// The limiters' state, saved with each chunk's mark.
    let rateLimitStates: @Sendable () async -> [String: Data]
    /// A provider's stop in the run's terms (wall-clock resume time).
    let applyStop: @Sendable (StopReason, ProviderName) async -> ApplyStop
    /// The stop asked of the run, if any (a signal or the deadline): why a statement was cancelled.
    var stopRequested: @Sendable () -> ApplyStop? = { nil }

    /// What one chunk came to, before it is marked in the checkpoint.
    enum Verdict {
        case done
        case skipped(String)
        /// Failed for good: the next run does not try it again.
        case failed(String)
        /// Left for the next run; `stop` when the whole run should stop too.
        case pending(String, retryAt: Int64?, stop: ApplyStop?)
    }

    /// A step that ends the chunk early with its verdict.
    private struct Ended: Error {
        var verdict: Verdict
        init(_ verdict: Verdict) { self.verdict = verdict }
    }

    /// The chunk's slots on this barfill's grid, as ordinals and start times.
    struct Slots {
        var ordinals: [Int]
        var starts: [Int64]
    }

    /// What the database holds for the chunk's slots now.
    struct Precheck: Sendable {
        var symbolId: String
        var ledgered: Set<Int64>
        var present: Set<Int64>
        /// Slot starts neither stored nor recorded empty.
        var missing: Set<Int64>
    }

    /// The provider's answer reduced to what will be written.
    struct Kept: Sendable {
        var bars: [Bar]
        /// Slots the provider answered nothing for, old enough to record as confirmed empty.
        var emptyRanges: [EmptyRange]
        var offGrid: Int
        var confirmedEmpty: Int
    }

    struct EmptyRange: Sendable {
        var from: Int64
        var to: Int64
    }

    /// Counts and timings gathered along the way.
    private struct Tally {
        var counts = ChunkCounts()
        var fetchNanoseconds: UInt64 = 0
        var writeNanoseconds: UInt64 = 0
    }

    /// Runs every step of `chunk` and records the outcome in the checkpoint.
    func run(_ chunk: Plan.Chunk, database: WorkerDatabase, provider: any BarProvider) async throws -> (result: ChunkResult, stop: ApplyStop?) {
        let started = ApplyRunner.now()
        let clock = DispatchTime.now().uptimeNanoseconds
        try await markRunning(chunk, at: started)
        var tally = Tally()
        let verdict: Verdict
        do throws(Ended) {
            let slots = try onGrid(chunk)
            let precheck = try await self.precheck(chunk, slots: slots, database: database)
            let fetched = try await fetch(chunk, provider: provider, tally: &tally)
            let kept = keepOnGrid(fetched, slots: slots, precheck: precheck, chunk: chunk, tally: &tally)
            let written = try await write(kept, chunk: chunk, precheck: precheck, database: database, tally: &tally)
            tally.counts.inserted = written.inserted
            tally.counts.updated = written.updated
            tally.counts.unchanged = written.unchanged
            verdict = .done
        } catch {
            verdict = error.verdict
        }
        let elapsed = Int64((DispatchTime.now().uptimeNanoseconds - clock) / 1_000_000)
        try await mark(chunk, verdict, counts: tally.counts, milliseconds: elapsed)
        var result = ChunkResult(id: chunk.id, symbol: chunk.symbol.value, timeframe: chunk.timeframe,
                                 provider: chunk.provider, from: chunk.from, to: chunk.to,
                                 missingBars: chunk.missingBars, status: verdict.status, counts: tally.counts,
                                 message: verdict.message, milliseconds: elapsed)
        result.fetchMilliseconds = Int64(tally.fetchNanoseconds / 1_000_000)
        result.writeMilliseconds = Int64(tally.writeNanoseconds / 1_000_000)
        return (result, verdict.stop)
    }

    // MARK: The steps, in order

    private func markRunning(_ chunk: Plan.Chunk, at now: Int64) async throws {
        let (checkpoint, planKey) = (self.checkpoint, self.planKey)
        try await offPool { try checkpoint.markRunning(planKey: planKey, chunkID: chunk.id, at: now) }
        onEvent(.chunkStarted(id: chunk.id, symbol: chunk.symbol.value, timeframe: chunk.timeframe))
    }

    /// The plan's slots on this barfill's grid: a gap whose slot count differs was planned on another grid.
    private func onGrid(_ chunk: Plan.Chunk) throws(Ended) -> Slots {
        guard let grid = grids[chunk.timeframe] else { preconditionFailure("grid built for every timeframe") }
        var ordinals: [Int] = []
        for gap in chunk.gaps {
            let inGap = grid.ordinals(from: gap.from, until: gap.to)
            guard inGap.count == gap.bars else {
                throw Ended(.failed("gap \(UTC.format(gap.from)) … \(UTC.format(gap.to)) has \(gap.bars) slots in the plan but \(inGap.count) on this grid; run `barfill gaps` again"))
            }
            ordinals.append(contentsOf: inGap)
        }
        return Slots(ordinals: ordinals, starts: ordinals.map { grid.slot(at: $0).start })
    }

    /// What is still missing now. The symbol's id and the timeframe's support are looked up once
    /// per worker; a chunk costs one statement here.
    private func precheck(_ chunk: Plan.Chunk, slots: Slots, database: WorkerDatabase) async throws(Ended) -> Precheck {
        let ticker = chunk.symbol.value
        let timeframe = chunk.timeframe
        let known = database.symbolIds[SeriesKey(chunk)]
        let starts = slots.starts
        let answer: (symbolId: String, ledgered: Set<Int64>, present: Set<Int64>)?
        do {
            answer = try await database.run { connection in
                var symbolId = known
                if symbolId == nil {
                    let store = try BarStore(connection: connection)
                    try store.checkSupported(timeframe)
                    symbolId = try store.symbols(tickers: [ticker])[ticker]?.id
                }
                guard let symbolId else { return nil }
                let found = try PresentSlotsQuery.run(connection, symbolId: symbolId, timeframe: timeframe, slotStarts: starts)
                return (symbolId, found.ledgered, found.present)
            }
        } catch {
            throw Ended(Self.verdict(forDatabase: error, stop: stopRequested()))
        }
        guard let answer else { throw Ended(.failed("symbol \(ticker) is not in the symbols table")) }
        database.symbolIds[SeriesKey(chunk)] = answer.symbolId
        let missing = starts.filter { !answer.ledgered.contains($0) && !answer.present.contains($0) }
        guard !missing.isEmpty else { throw Ended(.skipped("already filled")) }
        return Precheck(symbolId: answer.symbolId, ledgered: answer.ledgered, present: answer.present, missing: Set(missing))
    }

    /// The provider's bars for the chunk's window. A fetch the limiter stopped part-way is dropped:
    /// the window is fetched whole next time, so the ledger never records slots the provider was not asked about.
    private func fetch(_ chunk: Plan.Chunk, provider: any BarProvider, tally: inout Tally) async throws(Ended) -> FetchResult {
        let start = DispatchTime.now().uptimeNanoseconds
        let fetched: FetchResult
        do {
            fetched = try await provider.fetch(ticker: chunk.symbol, timeframe: chunk.timeframe, from: chunk.from, to: chunk.to)
            tally.fetchNanoseconds = DispatchTime.now().uptimeNanoseconds - start
        } catch {
            tally.fetchNanoseconds = DispatchTime.now().uptimeNanoseconds - start
            let message = error.localizedDescription
            switch error.fault {
            case .permanent:
                throw Ended(.failed(message))
            case .transient:
                throw Ended(.pending(message, retryAt: ApplyRunner.now() + 60, stop: nil))
            case .unreachable:
                // Every other chunk of this provider would meet the same: stop, resumable.
                let baseURL: String
                if case let .unreachable(_, url, _) = error { baseURL = url } else { baseURL = chunk.provider.rawValue }
                throw Ended(.pending(message, retryAt: nil,
                                     stop: .providerUnreachable(provider: chunk.provider, baseURL: baseURL)))
            }
        }
        tally.counts.requests = fetched.requests
        tally.counts.fetched = fetched.bars.count
        tally.counts.rejected = fetched.rejections.count
        if let stop = fetched.stop {
            let applyStop = await self.applyStop(stop, chunk.provider)
            throw Ended(.pending(applyStop.description, retryAt: nil, stop: applyStop))
        }
        return fetched
    }

    /// Bars on the grid (the rest are counted as off-grid), and the slots the provider answered
    /// nothing for that ended long enough ago to be recorded as confirmed empty.
    private func keepOnGrid(_ fetched: FetchResult, slots: Slots, precheck: Precheck, chunk: Plan.Chunk,
                            tally: inout Tally) -> Kept {
        guard let grid = grids[chunk.timeframe] else { preconditionFailure("grid built for every timeframe") }
        let onGrid = fetched.bars.filter { grid.ordinal(of: $0.ts) != nil }
        let answered = Set(onGrid.map(\.ts))
        let graceEnd = ApplyRunner.now() - options.emptyGraceSeconds
        let silent = slots.ordinals.filter { ordinal in
            let slot = grid.slot(at: ordinal)
            return !answered.contains(slot.start) && !precheck.present.contains(slot.start)
                && !precheck.ledgered.contains(slot.start) && slot.end <= graceEnd
        }
        let kept = Kept(bars: onGrid, emptyRanges: Self.ranges(of: silent, on: grid).map { EmptyRange(from: $0.from, to: $0.to) },
                        offGrid: fetched.bars.count - onGrid.count, confirmedEmpty: silent.count)
        tally.counts.offGrid = kept.offGrid
        tally.counts.confirmedEmpty = kept.confirmedEmpty
        return kept
    }

    /// Bars, ledger and status in one transaction: all of it is committed, or none.
    private func write(_ kept: Kept, chunk: Plan.Chunk, precheck: Precheck, database: WorkerDatabase,
                       tally: inout Tally) async throws(Ended) -> UpsertCounts {
        let (provider, timeframe, symbolId) = (chunk.provider, chunk.timeframe, precheck.symbolId)
        let overwrite = options.overwrite
        let stillMissing = precheck.missing
        let start = DispatchTime.now().uptimeNanoseconds
        defer { tally.writeNanoseconds = DispatchTime.now().uptimeNanoseconds - start }
        do {
            return try await database.run { connection in
                try connection.transaction { connection in
                    let store = try BarStore(connection: connection)
                    let counts: UpsertCounts
                    if overwrite {
                        counts = try store.upsert(bars: kept.bars, symbolId: symbolId, timeframe: timeframe,
                                                  provider: provider, overwrite: true)
                    } else {
                        // Bars for the slots the precheck found still missing go straight in by COPY
                        // (BarStore falls back to the upsert if another writer got there first); the
                        // chunk's other bars, for slots that held a bar when the plan was made, go
                        // through the upsert, which keeps what is stored.
                        let absent = kept.bars.filter { stillMissing.contains($0.ts) }
                        let others = kept.bars.filter { !stillMissing.contains($0.ts) }
                        let inserted = try store.insertAbsent(bars: absent, symbolId: symbolId,
                                                              timeframe: timeframe, provider: provider)
                        let upserted = try store.upsert(bars: others, symbolId: symbolId, timeframe: timeframe,
                                                        provider: provider)
                        counts = UpsertCounts(inserted: inserted.inserted + upserted.inserted,
                                              updated: inserted.updated + upserted.updated,
                                              unchanged: inserted.unchanged + upserted.unchanged)
                    }
                    try store.recordEmpty(ranges: kept.emptyRanges.map { ($0.from, $0.to) }, symbolId: symbolId,
                                          timeframe: timeframe, provider: provider)
                    try store.updateStatus(symbolId: symbolId, timeframe: timeframe,
                                           result: "apply: \(counts.inserted) inserted, \(counts.updated) updated, \(kept.confirmedEmpty) confirmed empty")
                    return counts
                }
            }
        } catch {
            throw Ended(Self.verdict(forDatabase: error, stop: stopRequested()))
        }
    }

    /// The checkpoint's mark, after the database: done and skipped are finished; failed is final;
    /// pending goes back for the next run. The limiters' state goes in with it, so a run killed right
    /// after still resumes knowing which requests are inside the provider's window.
    private func mark(_ chunk: Plan.Chunk, _ verdict: Verdict, counts: ChunkCounts, milliseconds: Int64) async throws {
        let (checkpoint, planKey) = (self.checkpoint, self.planKey)
        let now = ApplyRunner.now()
        let limits = await rateLimitStates()
        switch verdict {
        case .done, .skipped:
            let status = verdict.status
            try await offPool {
                try checkpoint.markFinished(planKey: planKey, chunkID: chunk.id, status: status, counts: counts,
                                            at: now, durationMilliseconds: milliseconds, rateLimits: limits)
            }
        case let .failed(message):
            try await offPool {
                try checkpoint.markUnfinished(planKey: planKey, chunkID: chunk.id, permanent: true, message: message,
                                              nextAttemptAt: nil, requests: counts.requests, at: now, rateLimits: limits)
            }
        case let .pending(message, retryAt, _):
            try await offPool {
                try checkpoint.markUnfinished(planKey: planKey, chunkID: chunk.id, permanent: false, message: message,
                                              nextAttemptAt: retryAt, requests: counts.requests, at: now, rateLimits: limits)
            }
        }
    }

    // MARK: Helpers

    /// The database stayed away (`WorkerDatabase` already reconnected and retried): the chunk's
    /// transaction was not committed, so it is left pending and the run stops, resumable. Any other
    /// database error fails just this chunk.
    static func verdict(forDatabase error: any Error, stop: ApplyStop? = nil) -> Verdict {
        let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        if let error = error as? PostgresError, error.isConnectionLoss {
            return .pending(message, retryAt: nil, stop: .databaseLost)
        }
        if let error = error as? PostgresError, error.isQueryCancelled {
            // A stop (a signal or the deadline) cancelled the statement (`WorkerDatabase.cancel`):
            // rolled back, left for the next run.
            return .pending(message, retryAt: nil, stop: stop ?? .signal)
        }
        return .failed(message)
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
}

extension ChunkPipeline.Verdict {
    var status: ChunkStatus {
        switch self {
        case .done: .done
        case .skipped: .skipped
        case .failed: .failed
        case .pending: .pending
        }
    }

    var message: String? {
        switch self {
        case .done: nil
        case let .skipped(message), let .failed(message), let .pending(message, _, _): message
        }
    }

    var stop: ApplyStop? {
        if case let .pending(_, _, stop) = self { return stop }
        return nil
    }
}

/// One worker's database connection. A connection lost mid-run (server or pooler restarted,
/// backend terminated) is reopened with a short backoff and the statement retried once: it was
/// in a transaction that was not committed, and every step is safe to run again.
final class WorkerDatabase: @unchecked Sendable {
    // `current` is swapped on reconnection under its lock (a stop may cancel from another thread);
    // everything else is touched only by the one worker task that owns it, one call at a time.
    private let current: Mutex<PostgresDatabase>
    private var database: PostgresDatabase {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
    private let url: String?
    private let label: String
    /// Pauses before each reconnection attempt, in seconds.
    private let reconnectPauses: [Double]
    /// Symbol ids by series, recorded once the timeframe was checked against the database's enum.
    var symbolIds: [SeriesKey: String] = [:]

    private init(database: PostgresDatabase, url: String?, label: String, reconnectPauses: [Double]) {
        self.current = Mutex(database)
        self.url = url
        self.label = label
        self.reconnectPauses = reconnectPauses
    }

    static func connect(url: String?, label: String, reconnectPauses: [Double] = [0.2, 0.5, 1, 2]) async throws -> WorkerDatabase {
        WorkerDatabase(database: try await PostgresDatabase.connect(url: url, label: label), url: url, label: label,
                       reconnectPauses: reconnectPauses)
    }

    /// Opens a connection to the database this run has already reached (`checkSchema` did): one that
    /// is away for a moment (restarting, its pooler restarting) is tried again with the reconnection
    /// pauses, and one that stays away is the database lost mid-run (resumable), not "cannot connect".
    static func reopen(url: String?, label: String, reconnectPauses: [Double] = [0.2, 0.5, 1, 2]) async throws -> WorkerDatabase {
        var last: PostgresError
        do {
            return try await connect(url: url, label: label, reconnectPauses: reconnectPauses)
        } catch let error as PostgresError where error.isConnectionLoss {
            last = error
        }
        for pause in reconnectPauses {
            try await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
            do {
                return try await connect(url: url, label: label, reconnectPauses: reconnectPauses)
            } catch let error as PostgresError where error.isConnectionLoss {
                last = error
            }
        }
        if case let .cannotConnect(reason) = last { throw PostgresError.connectionLost(reason: reason) }
        throw last
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await database.run(body)
        } catch let error as PostgresError where error.isConnectionLoss {
            try await reconnect(after: error)
            return try await database.run(body)
        }
    }

    /// Cancels the statement running now, if any: the stop does not wait for it.
    func cancel() { database.cancelRunningStatement() }

    /// Opens a new connection, trying a few times; throws the last error when the database stays away.
    private func reconnect(after lost: PostgresError) async throws {
        var last = lost
        for pause in reconnectPauses {
            try await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
            do {
                database = try await PostgresDatabase.connect(url: url, label: label)
                return
            } catch let error as PostgresError where error.isConnectionLoss {
                last = error
            }
        }
        throw last
    }
}
