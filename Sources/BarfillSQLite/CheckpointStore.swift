import BarfillCore
import Foundation
import Synchronization

/// Where a chunk of a plan stands.
public enum ChunkStatus: String, Sendable, Codable, CaseIterable {
    /// Not started, or interrupted before its bars were committed (a crash leaves `running`, read back as pending work).
    case pending
    /// A run started it and has not finished it.
    case running
    /// Its bars are committed to the database.
    case done
    /// Failed permanently (entitlement, invalid response, …); `lastError` says why.
    case failed
    /// Nothing was left to do when its turn came (filled in the meantime).
    case skipped

    /// True when a later run has nothing to do for the chunk.
    public var isFinished: Bool { self == .done || self == .skipped }
}

/// Bar and request counts of one chunk's work.
public struct ChunkCounts: Sendable, Equatable, Codable {
    public var requests = 0
    public var fetched = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var offGrid = 0
    public var confirmedEmpty = 0

    public init(requests: Int = 0, fetched: Int = 0, inserted: Int = 0, updated: Int = 0, unchanged: Int = 0,
                rejected: Int = 0, offGrid: Int = 0, confirmedEmpty: Int = 0) {
        self.requests = requests
        self.fetched = fetched
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.rejected = rejected
        self.offGrid = offGrid
        self.confirmedEmpty = confirmedEmpty
    }

    public static func + (a: ChunkCounts, b: ChunkCounts) -> ChunkCounts {
        ChunkCounts(requests: a.requests + b.requests, fetched: a.fetched + b.fetched,
                    inserted: a.inserted + b.inserted, updated: a.updated + b.updated,
                    unchanged: a.unchanged + b.unchanged, rejected: a.rejected + b.rejected,
                    offGrid: a.offGrid + b.offGrid, confirmedEmpty: a.confirmedEmpty + b.confirmedEmpty)
    }
}

/// One chunk's row in the checkpoint.
public struct ChunkProgress: Sendable, Equatable {
    public var chunkID: String
    public var symbol: String
    public var timeframe: Timeframe
    public var status: ChunkStatus
    public var attempts: Int
    public var counts: ChunkCounts
    /// Already redacted by the caller: no keys, no passwords.
    public var lastError: String?
    /// Unix seconds before which the chunk should not be retried (after a transient failure).
    public var nextAttemptAt: Int64?
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var durationMilliseconds: Int64?
}

/// A chunk named in a plan, as the checkpoint registers it.
public struct ChunkKey: Sendable, Hashable {
    public var id: String
    public var symbol: String
    public var timeframe: Timeframe
    public init(id: String, symbol: String, timeframe: Timeframe) {
        self.id = id
        self.symbol = symbol
        self.timeframe = timeframe
    }
}

/// A plan the checkpoint has seen, with how many of its chunks are in each status.
public struct PlanProgress: Sendable, Equatable {
    public var planKey: String
    public var firstRunAt: Int64
    public var lastRunAt: Int64
    public var byStatus: [ChunkStatus: Int]
    public var total: Int { byStatus.values.reduce(0, +) }
}

/// The SQLite file that makes `apply` resumable: per plan and chunk, status, attempts, counts, last error,
/// timings; and each provider's rate-limit state, so a resumed run respects a window still open.
/// Holds an exclusive lock on `<path>.lock` for its lifetime.
public final class CheckpointStore: Sendable {
    /// Where `apply` keeps it unless `--checkpoint` says otherwise.
    public static let defaultPath = ".barfill/checkpoint.sqlite"
    /// The schema this build writes; `PRAGMA user_version` in the file.
    public static let schemaVersion = 1

    public let path: String
    private let state: Mutex<State>

    private struct State {
        let database: SQLiteDatabase
        let lock: CheckpointLock?
    }

    /// Opens or creates the checkpoint at `path` (creating its directory), takes its lock unless
    /// `exclusive` is false (readers such as `barfill status`, which WAL lets read beside a run),
    /// and checks that the file is a sound barfill checkpoint.
    public init(path: String = CheckpointStore.defaultPath, exclusive: Bool = true) throws(CheckpointError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .cannotOpen(path: path, reason: "cannot create directory \(directory)")
            }
        }
        let lock = exclusive ? try CheckpointLock(path: path + ".lock") : nil
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path)
            try Self.migrate(database, path: path)
            // integrity_check reads every page: damage anywhere is found now, not halfway through a run.
            let problems = try database.integrityProblems()
            if !problems.isEmpty {
                throw CheckpointError.corrupt(path: path, reason: problems.prefix(3).joined(separator: "; "))
            }
        } catch let error as SQLiteError {
            throw CheckpointError(error, path: path)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
        state = Mutex(State(database: database, lock: lock))
    }

    private static let tables = ["plans", "chunks", "rate_limits"]

    private static func migrate(_ database: SQLiteDatabase, path: String) throws {
        let version = try database.userVersion()
        if version > schemaVersion {
            throw CheckpointError.newerSchema(path: path, version: version, supported: schemaVersion)
        }
        if version == 0 {
            // A file with tables but no version is not one of ours.
            let existing = try database.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
            _ = try existing.step()
            if existing.int64(at: 0) > 0 {
                throw CheckpointError.corrupt(path: path, reason: "it holds tables but no barfill schema version")
            }
            try database.transaction {
                try database.execute(schemaV1)
                try database.setUserVersion(1)
            }
        }
        let present = try database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        var names: Set<String> = []
        while try present.step() { names.insert(present.text(at: 0) ?? "") }
        let missing = tables.filter { !names.contains($0) }
        if !missing.isEmpty {
            throw CheckpointError.corrupt(path: path, reason: "missing table(s) \(missing.joined(separator: ", "))")
        }
    }

    private static let schemaV1 = """
        CREATE TABLE plans (
            plan_key     TEXT PRIMARY KEY,
            first_run_at INTEGER NOT NULL,
            last_run_at  INTEGER NOT NULL
        );
        CREATE TABLE chunks (
            plan_key        TEXT NOT NULL REFERENCES plans(plan_key) ON DELETE CASCADE,
            chunk_id        TEXT NOT NULL,
            symbol          TEXT NOT NULL,
            timeframe       TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            requests        INTEGER NOT NULL DEFAULT 0,
            bars_fetched    INTEGER NOT NULL DEFAULT 0,
            bars_inserted   INTEGER NOT NULL DEFAULT 0,
            bars_updated    INTEGER NOT NULL DEFAULT 0,
            bars_unchanged  INTEGER NOT NULL DEFAULT 0,
            bars_rejected   INTEGER NOT NULL DEFAULT 0,
            bars_off_grid   INTEGER NOT NULL DEFAULT 0,
            confirmed_empty INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            next_attempt_at INTEGER,
            started_at      INTEGER,
            finished_at     INTEGER,
            duration_ms     INTEGER,
            PRIMARY KEY (plan_key, chunk_id)
        );
        CREATE TABLE rate_limits (
            provider   TEXT PRIMARY KEY,
            state      BLOB NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """

    private func withDatabase<T: Sendable>(_ body: (SQLiteDatabase) throws -> T) throws(CheckpointError) -> T {
        let path = self.path
        let result: Result<T, CheckpointError> = state.withLock { state in
            do {
                return .success(try body(state.database))
            } catch let error as SQLiteError {
                return .failure(CheckpointError(error, path: path))
            } catch let error as CheckpointError {
                return .failure(error)
            } catch {
                return .failure(.storage(path: path, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    /// `PRAGMA synchronous` of the store's connection (2 = FULL), for tests.
    func synchronousLevel() throws(CheckpointError) -> Int {
        try withDatabase { db in
            let statement = try db.prepare("PRAGMA synchronous")
            _ = try statement.step()
            return Int(statement.int64(at: 0))
        }
    }

    // MARK: Plans and chunks

    /// Records that a run of `planKey` starts now, and adds a pending row for each chunk not seen before.
    /// Chunks already known keep their progress; chunks deleted from the plan are simply never asked about.
    public func begin(planKey: String, chunks: [ChunkKey], at now: Int64) throws(CheckpointError) {
        try withDatabase { db in
            try db.transaction {
                try db.prepare("""
                    INSERT INTO plans (plan_key, first_run_at, last_run_at) VALUES (?1, ?2, ?2)
                    ON CONFLICT (plan_key) DO UPDATE SET last_run_at = excluded.last_run_at
                    """).bind(.text(planKey), .integer(now)).run()
                // The key is the plan's content hash, so its chunks are the same on every run, and a
                // run registers all of them in one transaction: a resumed run whose rows are all
                // there (rows are never deleted one by one) has nothing to add, and skips a lookup
                // per chunk of a 100,000-chunk plan.
                let registered = try db.prepare("SELECT count(*) FROM chunks WHERE plan_key = ?1").bind(.text(planKey))
                _ = try registered.step()
                if registered.int64(at: 0) == Int64(chunks.count) { return }
                let insert = try db.prepare("""
                    INSERT INTO chunks (plan_key, chunk_id, symbol, timeframe) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (plan_key, chunk_id) DO NOTHING
                    """)
                // In the primary key's order: each insert lands next to the last one in the index, so
                // 100,000 chunks touch each index page once instead of a random page per chunk (which,
                // past SQLite's 2 MB page cache, meant reading it back from the WAL every time).
                for chunk in Self.inKeyOrder(chunks) {
                    try insert.bind(.text(planKey), .text(chunk.id), .text(chunk.symbol), .text(chunk.timeframe.rawValue)).run()
                }
            }
        }
    }

    /// `chunks` in SQLite's byte order of their ids. Chunk ids are hex, so the number their first
    /// 16 digits spell orders them as their bytes do; sorting by it (then by the whole id, for ids
    /// sharing those digits) costs a fraction of 100,000 string comparisons. Ids that are not hex
    /// are sorted by their bytes.
    static func inKeyOrder(_ chunks: [ChunkKey]) -> [ChunkKey] {
        func prefix(_ id: String) -> UInt64? {
            var value: UInt64 = 0
            var digits = 0
            for byte in id.utf8.prefix(16) {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                value = value << 4 | UInt64(digit)
                digits += 1
            }
            guard digits == 16 else { return nil }
            return value
        }
        var keyed: [(prefix: UInt64, chunk: ChunkKey)] = []
        keyed.reserveCapacity(chunks.count)
        for chunk in chunks {
            guard let number = prefix(chunk.id) else {
                return chunks.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
            }
            keyed.append((number, chunk))
        }
        keyed.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return a.chunk.id.utf8.lexicographicallyPrecedes(b.chunk.id.utf8)
        }
        return keyed.map(\.chunk)
    }

    /// Ids of the chunks of `planKey` that a later run has nothing to do for (`done` or `skipped`):
    /// what `apply` needs at start, without a row object per chunk of a 100,000-chunk plan.
    public func finishedChunkIDs(planKey: String) throws(CheckpointError) -> Set<String> {
        try withDatabase { db in
            let statement = try db.prepare("""
                SELECT chunk_id FROM chunks WHERE plan_key = ?1 AND status IN ('done', 'skipped')
                """).bind(.text(planKey))
            var ids: Set<String> = []
            while try statement.step() { ids.insert(statement.text(at: 0) ?? "") }
            return ids
        }
    }

    /// Every chunk recorded for `planKey`, by chunk id.
    public func progress(planKey: String) throws(CheckpointError) -> [String: ChunkProgress] {
        try withDatabase { db in
            let statement = try db.prepare("""
                SELECT chunk_id, symbol, timeframe, status, attempts, requests, bars_fetched, bars_inserted,
                       bars_updated, bars_unchanged, bars_rejected, bars_off_grid, confirmed_empty,
                       last_error, next_attempt_at, started_at, finished_at, duration_ms
                FROM chunks WHERE plan_key = ?1
                """).bind(.text(planKey))
            let column = statement.column(named:)
            let chunkID = column("chunk_id"), symbol = column("symbol"), timeframe = column("timeframe")
            let status = column("status"), attempts = column("attempts"), requests = column("requests")
            let fetched = column("bars_fetched"), inserted = column("bars_inserted"), updated = column("bars_updated")
            let unchanged = column("bars_unchanged"), rejected = column("bars_rejected"), offGrid = column("bars_off_grid")
            let confirmedEmpty = column("confirmed_empty"), lastError = column("last_error")
            let nextAttemptAt = column("next_attempt_at"), startedAt = column("started_at")
            let finishedAt = column("finished_at"), duration = column("duration_ms")
            var rows: [String: ChunkProgress] = [:]
            while try statement.step() {
                let id = statement.text(at: chunkID) ?? ""
                guard let status = ChunkStatus(rawValue: statement.text(at: status) ?? "") else {
                    throw CheckpointError.corrupt(path: path, reason: "chunk \(id) has an unknown status")
                }
                guard let timeframe = Timeframe(rawValue: statement.text(at: timeframe) ?? "") else {
                    throw CheckpointError.corrupt(path: path, reason: "chunk \(id) has an unknown timeframe")
                }
                let counts = ChunkCounts(
                    requests: Int(statement.int64(at: requests)), fetched: Int(statement.int64(at: fetched)),
                    inserted: Int(statement.int64(at: inserted)), updated: Int(statement.int64(at: updated)),
                    unchanged: Int(statement.int64(at: unchanged)), rejected: Int(statement.int64(at: rejected)),
                    offGrid: Int(statement.int64(at: offGrid)), confirmedEmpty: Int(statement.int64(at: confirmedEmpty)))
                rows[id] = ChunkProgress(
                    chunkID: id, symbol: statement.text(at: symbol) ?? "", timeframe: timeframe,
                    status: status, attempts: Int(statement.int64(at: attempts)), counts: counts,
                    lastError: statement.text(at: lastError), nextAttemptAt: statement.optionalInt64(at: nextAttemptAt),
                    startedAt: statement.optionalInt64(at: startedAt), finishedAt: statement.optionalInt64(at: finishedAt),
                    durationMilliseconds: statement.optionalInt64(at: duration))
            }
            return rows
        }
    }

    /// A run is about to work on the chunk: one more attempt. Committed without its own fsync
    /// (`synchronous=NORMAL` for this one transaction): a process crash keeps it all the same, only a
    /// power cut could lose it, and then the chunk merely looks pending again. The chunk's next mark
    /// (`synchronous=FULL`) makes both durable.
    public func markRunning(planKey: String, chunkID: String, at now: Int64) throws(CheckpointError) {
        let path = self.path
        // One locked block: another worker's commit must not land while synchronous=NORMAL is set.
        try withDatabase { db in
            try db.execute("PRAGMA synchronous=NORMAL")
            defer { try? db.execute("PRAGMA synchronous=FULL") }
            try db.transaction {
                try db.prepare("""
                    UPDATE chunks SET status = 'running', attempts = attempts + 1, started_at = ?3, finished_at = NULL,
                                      next_attempt_at = NULL
                    WHERE plan_key = ?1 AND chunk_id = ?2
                    """).bind([.text(planKey), .text(chunkID), .integer(now)]).run()
                if db.changes != 1 {
                    throw CheckpointError.storage(path: path, reason: "chunk \(chunkID) is not registered for this plan")
                }
            }
        }
    }

    /// The chunk's bars are committed (`done`) or there was nothing to do (`skipped`).
    /// `rateLimits` (provider → state) are saved in the same transaction, so one fsync covers both.
    public func markFinished(planKey: String, chunkID: String, status: ChunkStatus, counts: ChunkCounts,
                             at now: Int64, durationMilliseconds: Int64,
                             rateLimits: [String: Data] = [:]) throws(CheckpointError) {
        precondition(status.isFinished, "markFinished takes done or skipped")
        try update(planKey, chunkID, rateLimits: rateLimits, at: now, """
            UPDATE chunks SET status = ?3, requests = ?4, bars_fetched = ?5, bars_inserted = ?6, bars_updated = ?7,
                              bars_unchanged = ?8, bars_rejected = ?9, bars_off_grid = ?10, confirmed_empty = ?11,
                              last_error = NULL, next_attempt_at = NULL, finished_at = ?12, duration_ms = ?13
            WHERE plan_key = ?1 AND chunk_id = ?2
            """, [.text(status.rawValue), .integer(Int64(counts.requests)), .integer(Int64(counts.fetched)),
                  .integer(Int64(counts.inserted)), .integer(Int64(counts.updated)),
                  .integer(Int64(counts.unchanged)), .integer(Int64(counts.rejected)),
                  .integer(Int64(counts.offGrid)), .integer(Int64(counts.confirmedEmpty)),
                  .integer(now), .integer(durationMilliseconds)])
    }

    /// The chunk did not finish. `permanent` failures (`failed`) are not retried by later runs; others go back
    /// to `pending` with `nextAttemptAt` as the earliest retry. `message` must already be redacted.
    public func markUnfinished(planKey: String, chunkID: String, permanent: Bool, message: String?,
                               nextAttemptAt: Int64?, requests: Int, at now: Int64,
                               rateLimits: [String: Data] = [:]) throws(CheckpointError) {
        try update(planKey, chunkID, rateLimits: rateLimits, at: now, """
            UPDATE chunks SET status = ?3, last_error = ?4, next_attempt_at = ?5, finished_at = ?6,
                              requests = requests + ?7
            WHERE plan_key = ?1 AND chunk_id = ?2
            """, [.text(permanent ? ChunkStatus.failed.rawValue : ChunkStatus.pending.rawValue),
                  message.map { .text($0) } ?? .null, nextAttemptAt.map { .integer($0) } ?? .null,
                  .integer(now), .integer(Int64(requests))])
    }

    private func update(_ planKey: String, _ chunkID: String, rateLimits: [String: Data] = [:], at now: Int64 = 0,
                        _ sql: String, _ rest: [SQLiteValue]) throws(CheckpointError) {
        let path = self.path
        try withDatabase { db in
            try db.transaction {
                try db.prepare(sql).bind([.text(planKey), .text(chunkID)] + rest).run()
                if db.changes != 1 {
                    throw CheckpointError.storage(path: path, reason: "chunk \(chunkID) is not registered for this plan")
                }
                for (provider, state) in rateLimits.sorted(by: { $0.key < $1.key }) {
                    try Self.saveRateLimit(db, state, provider: provider, at: now)
                }
            }
        }
    }

    /// Every plan in the checkpoint with its chunks counted by status, most recent run first.
    public func plans() throws(CheckpointError) -> [PlanProgress] {
        try withDatabase { db in
            let statement = try db.prepare("""
                SELECT p.plan_key AS plan_key, p.first_run_at AS first_run_at, p.last_run_at AS last_run_at,
                       c.status AS status, count(c.chunk_id) AS chunks
                FROM plans p LEFT JOIN chunks c USING (plan_key)
                GROUP BY p.plan_key, c.status
                ORDER BY p.last_run_at DESC, p.plan_key
                """)
            let column = statement.column(named:)
            let planKey = column("plan_key"), firstRunAt = column("first_run_at"), lastRunAt = column("last_run_at")
            let status = column("status"), chunks = column("chunks")
            var order: [String] = []
            var plans: [String: PlanProgress] = [:]
            while try statement.step() {
                let key = statement.text(at: planKey) ?? ""
                if plans[key] == nil {
                    order.append(key)
                    plans[key] = PlanProgress(planKey: key, firstRunAt: statement.int64(at: firstRunAt),
                                              lastRunAt: statement.int64(at: lastRunAt), byStatus: [:])
                }
                if let status = statement.text(at: status).flatMap(ChunkStatus.init(rawValue:)) {
                    plans[key]?.byStatus[status] = Int(statement.int64(at: chunks))
                }
            }
            return order.compactMap { plans[$0] }
        }
    }

    /// Per series (symbol, timeframe): chunks finished and total, over every plan in the checkpoint.
    public func seriesProgress() throws(CheckpointError) -> [SeriesProgress] {
        try withDatabase { db in
            let statement = try db.prepare("""
                SELECT symbol, timeframe, count(*) AS chunks, sum(status IN ('done', 'skipped')) AS finished,
                       sum(status = 'failed') AS failed, max(finished_at) AS last_finished_at
                FROM chunks GROUP BY symbol, timeframe ORDER BY symbol, timeframe
                """)
            let column = statement.column(named:)
            let symbol = column("symbol"), timeframe = column("timeframe"), chunks = column("chunks")
            let finished = column("finished"), failed = column("failed"), lastFinishedAt = column("last_finished_at")
            var rows: [SeriesProgress] = []
            while try statement.step() {
                rows.append(SeriesProgress(symbol: statement.text(at: symbol) ?? "", timeframe: statement.text(at: timeframe) ?? "",
                                           chunks: Int(statement.int64(at: chunks)), finished: Int(statement.int64(at: finished)),
                                           failed: Int(statement.int64(at: failed)),
                                           lastFinishedAt: statement.optionalInt64(at: lastFinishedAt)))
            }
            return rows
        }
    }

    // MARK: Rate-limit state

    /// The provider's saved rate-limit state (opaque to the checkpoint), if any.
    public func rateLimitState(provider: String) throws(CheckpointError) -> Data? {
        try withDatabase { db in
            let statement = try db.prepare("SELECT state FROM rate_limits WHERE provider = ?1").bind(.text(provider))
            return try statement.step() ? statement.blob(at: 0) : nil
        }
    }

    public func saveRateLimitState(_ data: Data, provider: String, at now: Int64) throws(CheckpointError) {
        try withDatabase { db in try Self.saveRateLimit(db, data, provider: provider, at: now) }
    }

    private static func saveRateLimit(_ db: SQLiteDatabase, _ data: Data, provider: String, at now: Int64) throws {
        try db.prepare("""
            INSERT INTO rate_limits (provider, state, updated_at) VALUES (?1, ?2, ?3)
            ON CONFLICT (provider) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """).bind(.text(provider), .blob(data), .integer(now)).run()
    }
}

/// Checkpoint progress of one series over every plan applied with this checkpoint.
public struct SeriesProgress: Sendable, Equatable {
    public var symbol: String
    public var timeframe: String
    public var chunks: Int
    public var finished: Int
    public var failed: Int
    public var lastFinishedAt: Int64?
}
