import CLibPQ

/// The rows of one statement (text format). Owns its PGresult.
public final class PostgresResult {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQclear(handle) }

    public var rowCount: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    /// Rows a command touched (INSERT, UPDATE, DELETE, COPY); 0 when it does not say.
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public func columnName(_ column: Int) -> String { String(cString: PQfname(handle, Int32(column))) }

    /// The value's text, nil for SQL NULL.
    public func string(_ row: Int, _ column: Int) -> String? {
        precondition(row < rowCount && column < columnCount, "row \(row) column \(column) out of range")
        if PQgetisnull(handle, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    /// An integer column (int2/int4/int8 or numeric without fraction); nil for NULL.
    public func int64(_ row: Int, _ column: Int) throws(PostgresError) -> Int64? {
        guard let text = string(row, column) else { return nil }
        guard let value = Int64(text) else { throw .unexpectedResult("column \(columnName(column)) is not an integer: \(text)") }
        return value
    }

    public func int(_ row: Int, _ column: Int) throws(PostgresError) -> Int? {
        try int64(row, column).map { Int($0) }
    }

    public func double(_ row: Int, _ column: Int) throws(PostgresError) -> Double? {
        guard let text = string(row, column) else { return nil }
        guard let value = Double(text) else { throw .unexpectedResult("column \(columnName(column)) is not a number: \(text)") }
        return value
    }

    public func bool(_ row: Int, _ column: Int) -> Bool? { string(row, column).map { $0 == "t" } }

    /// The single value of a one-row, one-column answer.
    public func scalar() throws(PostgresError) -> String? {
        guard rowCount == 1, columnCount >= 1 else { throw .unexpectedResult("expected one row, got \(rowCount)") }
        return string(0, 0)
    }
}
