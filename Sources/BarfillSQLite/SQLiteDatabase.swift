import CSQLite
import Foundation

/// One open SQLite database file. Used by one thread at a time (SQLite's multi-thread mode).
public final class SQLiteDatabase {
    private let handle: OpaquePointer
    public let path: String

    /// Opens (or creates) `path` with WAL journaling, `synchronous=FULL` so a committed transaction
    /// survives a power cut, foreign keys on, and a busy timeout for readers that overlap a writer.
    public init(path: String, busyTimeout milliseconds: Int32 = 5_000) throws(SQLiteError) {
        var raw: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard let opened = raw else { throw .cannotOpen(path: path, reason: "out of memory") }
        guard rc == SQLITE_OK else {
            let reason = String(cString: sqlite3_errmsg(opened))
            sqlite3_close_v2(opened)
            throw .cannotOpen(path: path, reason: reason)
        }
        self.handle = opened
        self.path = path
        sqlite3_busy_timeout(handle, milliseconds)
        // The first statements read the header: a file that is not a database fails here.
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that take no parameters and return no rows worth reading.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw error(rc, text)
        }
    }

    /// Compiles one statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &raw, nil)
        guard rc == SQLITE_OK, let statement = raw else { throw lastError(rc) }
        return SQLiteStatement(database: self, handle: statement)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` (the write lock is taken up front, so two writers
    /// never deadlock upgrading a read lock); rolls back when `body` throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The schema version stored in the file header (`PRAGMA user_version`).
    public func userVersion() throws(SQLiteError) -> Int {
        let statement = try prepare("PRAGMA user_version")
        guard try statement.step() else { return 0 }
        return Int(statement.int64(at: 0))
    }

    public func setUserVersion(_ version: Int) throws(SQLiteError) {
        try execute("PRAGMA user_version = \(version)")
    }

    /// Runs SQLite's structural check; returns its complaints (empty when the file is sound).
    public func integrityProblems() throws(SQLiteError) -> [String] {
        let statement = try prepare("PRAGMA integrity_check")
        var problems: [String] = []
        while try statement.step() {
            let line = statement.text(at: 0) ?? ""
            if line != "ok" { problems.append(line) }
        }
        return problems
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    func lastError(_ rc: Int32) -> SQLiteError {
        error(rc, String(cString: sqlite3_errmsg(handle)))
    }

    func error(_ rc: Int32, _ message: String) -> SQLiteError {
        switch rc & 0xff {
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt(path: path, reason: message)
        case SQLITE_BUSY, SQLITE_LOCKED: .busy(path: path)
        case SQLITE_CANTOPEN: .cannotOpen(path: path, reason: message)
        default: .failed(path: path, code: rc, message: message)
        }
    }
}
