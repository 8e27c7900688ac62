import CSQLite
import Foundation

/// A value bound to a statement parameter.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// One compiled statement of a `SQLiteDatabase`. Keeps its database open while it lives.
public final class SQLiteStatement {
    private let database: SQLiteDatabase
    private let handle: OpaquePointer

    init(database: SQLiteDatabase, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to ?1, ?2, … after resetting the statement, so it can be run again.
    @discardableResult
    public func bind(_ values: SQLiteValue...) throws(SQLiteError) -> SQLiteStatement {
        try bind(values)
    }

    @discardableResult
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) -> SQLiteStatement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(handle, index)
            case let .integer(v):
                rc = sqlite3_bind_int64(handle, index, v)
            case let .real(v):
                rc = sqlite3_bind_double(handle, index, v)
            case let .text(v):
                rc = sqlite3_bind_text(handle, index, v, -1, barfill_sqlite_transient())
            case let .blob(v):
                rc = v.withUnsafeBytes { bytes in
                    // sqlite3_bind_zeroblob keeps an empty blob a blob rather than NULL.
                    guard let base = bytes.baseAddress, bytes.count > 0 else {
                        return sqlite3_bind_zeroblob(handle, index, 0)
                    }
                    return sqlite3_bind_blob(handle, index, base, Int32(bytes.count), barfill_sqlite_transient())
                }
            }
            guard rc == SQLITE_OK else { throw database.lastError(rc) }
        }
        return self
    }

    /// Advances to the next row: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.lastError(rc)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Runs the statement to completion, ignoring rows.
    public func run() throws(SQLiteError) {
        while try step() {}
    }

    /// The index of the result column called `name` (its alias, else its name). Find it once
    /// before the loop and read each row with it. The SQL sits next to the call, so a name it
    /// does not have is a programming error, not bad input.
    public func column(named name: String) -> Int32 {
        for index in 0..<sqlite3_column_count(handle) {
            if let found = sqlite3_column_name(handle, index), String(cString: found) == name { return index }
        }
        preconditionFailure("the statement has no result column \(name)")
    }

    public func isNull(at column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func int64(at column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func double(at column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func optionalInt64(at column: Int32) -> Int64? { isNull(at: column) ? nil : int64(at: column) }

    public func text(at column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: bytes)
    }

    public func blob(at column: Int32) -> Data? {
        guard !isNull(at: column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: bytes, count: count)
    }
}
