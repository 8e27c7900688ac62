import BarfillCore
import CLibPQ

/// The rows of one statement (text format). Owns its PGresult.
///
/// Read columns by name: `let ts = try rows.column("ts", as: Int64.self)` finds the column and checks
/// its type once; `try row.decode(ts)` (or `try row.decode(from, to)` for a tuple) reads each row.
public final class PostgresResult {
    private let handle: OpaquePointer
    /// The name of the statement that produced these rows, for errors; nil for unnamed SQL.
    public let statement: String?
    private lazy var columnIndexes: [String: Int] = {
        var indexes: [String: Int] = [:]
        for column in 0..<columnCount where indexes[columnName(column)] == nil { indexes[columnName(column)] = column }
        return indexes
    }()

    init(_ handle: OpaquePointer, statement: String? = nil) {
        self.handle = handle
        self.statement = statement
    }
    deinit { PQclear(handle) }

    public var rowCount: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    /// Rows a command touched (INSERT, UPDATE, DELETE, COPY); 0 when it does not say.
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public func columnName(_ column: Int) -> String { String(cString: PQfname(handle, Int32(column))) }

    // MARK: By name

    /// The column called `name`, its type checked against `Value` once for all rows.
    public func column<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws(PostgresError) -> PostgresColumn<Value> {
        guard let index = columnIndexes[name] else {
            throw unexpected("no column \(name) (the answer has \((0..<columnCount).map(columnName).joined(separator: ", ")))")
        }
        let oid = UInt32(PQftype(handle, Int32(index)))
        if let accepted = Value.postgresTypes, !accepted.contains(oid) {
            throw unexpected("column \(name) has type oid \(oid), which does not decode as \(Value.self)")
        }
        return PostgresColumn(index: index, name: name)
    }

    /// One row; read its values with `decode`.
    public subscript(row: Int) -> PostgresRow {
        precondition(row < rowCount, "row \(row) out of range")
        return PostgresRow(result: self, index: row)
    }

    /// Every row, in order.
    public var rows: [PostgresRow] { (0..<rowCount).map { PostgresRow(result: self, index: $0) } }

    /// The single row of a one-row answer.
    public func onlyRow() throws(PostgresError) -> PostgresRow {
        guard rowCount == 1 else { throw unexpected("expected one row, got \(rowCount)") }
        return PostgresRow(result: self, index: 0)
    }

    fileprivate func value<Value: PostgresDecodable>(_ row: Int, _ column: PostgresColumn<Value>) throws(PostgresError) -> Value {
        let text = string(row, column.index)
        guard let value = Value.decode(postgresText: text) else {
            throw unexpected(text.map { "column \(column.name) is not \(Value.self): \($0)" } ?? "column \(column.name) is NULL")
        }
        return value
    }

    private func unexpected(_ what: String) -> PostgresError {
        .unexpectedResult(statement.map { "\($0): \(what)" } ?? what)
    }

    // MARK: By index (kept for callers not yet reading by name)

    /// The value's text, nil for SQL NULL.
    public func string(_ row: Int, _ column: Int) -> String? {
        precondition(row < rowCount && column < columnCount, "row \(row) column \(column) out of range")
        if PQgetisnull(handle, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    /// An integer column (int2/int4/int8 or numeric without fraction); nil for NULL.
    public func int64(_ row: Int, _ column: Int) throws(PostgresError) -> Int64? {
        guard let text = string(row, column) else { return nil }
        guard let value = Int64(text) else { throw unexpected("column \(columnName(column)) is not an integer: \(text)") }
        return value
    }

    public func int(_ row: Int, _ column: Int) throws(PostgresError) -> Int? {
        try int64(row, column).map { Int($0) }
    }

    public func double(_ row: Int, _ column: Int) throws(PostgresError) -> Double? {
        guard let text = string(row, column) else { return nil }
        guard let value = Double(text) else { throw unexpected("column \(columnName(column)) is not a number: \(text)") }
        return value
    }

    public func bool(_ row: Int, _ column: Int) -> Bool? { string(row, column).map { $0 == "t" } }

    /// The single value of a one-row, one-column answer.
    public func scalar() throws(PostgresError) -> String? {
        guard rowCount == 1, columnCount >= 1 else { throw unexpected("expected one row, got \(rowCount)") }
        return string(0, 0)
    }

    /// The single value of a one-row, one-column answer, decoded.
    public func scalar<Value: PostgresDecodable>(as type: Value.Type) throws(PostgresError) -> Value {
        guard rowCount == 1, columnCount >= 1 else { throw unexpected("expected one row, got \(rowCount)") }
        return try value(0, try column(columnName(0), as: Value.self))
    }
}

/// A column of a `PostgresResult` found by name, its type checked against `Value`.
public struct PostgresColumn<Value: PostgresDecodable>: Sendable {
    let index: Int
    public let name: String
}

/// One row of a `PostgresResult`.
public struct PostgresRow {
    let result: PostgresResult
    public let index: Int

    /// The row's value in `column`; a NULL throws unless `Value` is optional.
    public func decode<Value: PostgresDecodable>(_ column: PostgresColumn<Value>) throws(PostgresError) -> Value {
        try result.value(index, column)
    }

    /// The row's values in several columns, as a tuple.
    public func decode<each Value: PostgresDecodable>(_ columns: repeat PostgresColumn<each Value>) throws(PostgresError) -> (repeat each Value) {
        (repeat try result.value(index, each columns))
    }

    /// The value in the column called `name` (looked up for this call; in loops, find the column once).
    public func decode<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        try result.value(index, try result.column(name, as: Value.self))
    }
}

/// A Swift type a text-format column decodes into.
public protocol PostgresDecodable {
    /// The column type oids that decode as this type; nil accepts any column.
    static var postgresTypes: Set<UInt32>? { get }
    /// The value for the column's text (nil text is SQL NULL); nil when the text does not decode.
    static func decode(postgresText: String?) -> Self?
}

/// PostgreSQL's built-in type oids (`pg_type.oid`) barfill reads.
enum PostgresTypeOID {
    static let integers: Set<UInt32> = [20, 21, 23, 26, 1700]        // int8, int2, int4, oid, numeric
    static let numbers: Set<UInt32> = integers.union([700, 701])     // … float4, float8
    static let bool: Set<UInt32> = [16]
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { Wrapped.postgresTypes }
    public static func decode(postgresText text: String?) -> Wrapped?? {
        guard let text else { return .some(nil) }
        return Wrapped.decode(postgresText: text).map { .some($0) }
    }
}

extension Int64: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { PostgresTypeOID.integers }
    public static func decode(postgresText text: String?) -> Int64? { text.flatMap { Int64($0) } }
}

extension Int: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { PostgresTypeOID.integers }
    public static func decode(postgresText text: String?) -> Int? { text.flatMap { Int($0) } }
}

extension Double: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { PostgresTypeOID.numbers }
    public static func decode(postgresText text: String?) -> Double? { text.flatMap { Double($0) } }
}

extension Bool: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { PostgresTypeOID.bool }
    public static func decode(postgresText text: String?) -> Bool? {
        switch text { case "t": true; case "f": false; default: nil }
    }
}

extension String: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { nil }
    public static func decode(postgresText text: String?) -> String? { text }
}

extension Timeframe: PostgresDecodable {
    public static var postgresTypes: Set<UInt32>? { nil }
    public static func decode(postgresText text: String?) -> Timeframe? { text.flatMap(Timeframe.init(rawValue:)) }
}
