import BarfillCore
import CLibPQ
import Foundation

/// A libpq connection. Used by one thread at a time; every call blocks until the server answers.
///
/// Nothing here keeps state across transactions (no named prepared statements, no session
/// settings, no session advisory locks), so a transaction-mode pooler such as Supabase's
/// port 6543 or pgbouncer works. Parameters are always bound (`$1 …`, text format).
///
/// Blocking: callers inside Swift concurrency should not hold a cooperative-pool thread for a
/// whole scan or upsert; `PostgresDatabase` runs a connection on its own dispatch queue for that.
public final class PostgresConnection {
    private let handle: OpaquePointer
    /// Secrets that must never reach an error message: the password libpq used.
    private let secrets: [String]

    /// Connects with a libpq URL or keyword string; nil uses libpq's defaults
    /// (`PGHOST`, `PGDATABASE`, `PGSERVICE`, service files, `~/.pgpass`). TLS is required for a
    /// host that is not local unless an sslmode was chosen (`TransportSecurity`).
    public init(url: String?) throws(PostgresError) {
        let conninfo = TransportSecurity.securing(url ?? "", environment: ProcessInfo.processInfo.environment)
        guard let handle = PQconnectdb(conninfo) else { throw .outOfMemory }
        var secrets = Self.passwords(in: conninfo)
        if let pass = PQpass(handle), pass.pointee != 0 { secrets.append(String(cString: pass)) }
        if let url, !url.isEmpty { secrets.append(url) }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.redact(Self.message(handle), secrets: secrets)
            PQfinish(handle)   // libpq wants this even after a failed connect
            throw .cannotConnect(reason: reason)
        }
        self.handle = handle
        self.secrets = secrets
        // Server notices ("relation already exists, skipping") are not for the terminal; they go
        // to `onNotice` when someone listens (EXPLAIN output through auto_explain, for example).
        PQsetNoticeProcessor(handle, { context, message in
            guard let context, let message else { return }
            let connection = Unmanaged<PostgresConnection>.fromOpaque(context).takeUnretainedValue()
            connection.onNotice?(String(cString: message))
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Receives the server's notices and warnings; nil drops them.
    public var onNotice: ((String) -> Void)?

    deinit { PQfinish(handle) }

    /// The server's host (or socket directory) and database name, for plans and logs; never credentials.
    public var host: String { PQhost(handle).map { String(cString: $0) } ?? "" }
    public var databaseName: String { PQdb(handle).map { String(cString: $0) } ?? "" }
    /// The server's version as an integer (160004 for 16.4).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }
    /// False once the connection broke; a broken connection is not reused.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }
    var transactionStatus: PGTransactionStatusType { PQtransactionStatus(handle) }

    /// A canceller for this connection's running statement, usable from any thread.
    public func makeCanceller() -> PostgresCanceller? { PostgresCanceller(handle) }

    // MARK: Statements

    /// Runs one statement with bound parameters and returns its rows (empty for commands).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresParameter)?] = []) throws(PostgresError) -> PostgresResult {
        try run(sql, parameters, statement: nil)
    }

    /// Runs a named statement; a server error and a result that does not decode carry its name.
    @discardableResult
    public func query(_ query: PostgresQuery) throws(PostgresError) -> PostgresResult {
        try run(query.sql, query.parameters, statement: query.name)
    }

    private func run(_ sql: String, _ parameters: [(any PostgresParameter)?], statement: String?) throws(PostgresError) -> PostgresResult {
        let texts: [String?] = parameters.map { $0?.postgresText }
        let result: OpaquePointer? = withCStrings(texts) { values in
            PQexecParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        return try check(result, statement: statement)
    }

    /// Runs statements without parameters (several may be separated by `;`), for migrations
    /// and fixed DDL. Input never goes through here.
    public func execute(script sql: String) throws(PostgresError) {
        var last: OpaquePointer? = nil
        guard PQsendQuery(handle, sql) == 1 else { throw failure(nil) }
        var firstError: PostgresError? = nil
        while let result = PQgetResult(handle) {
            if firstError == nil {
                let status = PQresultStatus(result)
                if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK { firstError = failure(result) }
            }
            if let last { PQclear(last) }
            last = result
        }
        if let last { PQclear(last) }
        if let firstError { throw firstError }
        if !isHealthy { throw failure(nil) }
    }

    /// Runs `body` inside BEGIN … COMMIT; any error rolls back and is rethrown.
    /// Do not nest: PostgreSQL has no nested BEGIN.
    @discardableResult
    public func transaction<T>(isolation: Isolation = .readCommitted,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        try query(isolation == .repeatableRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ" : "BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            if isHealthy { _ = try? query("ROLLBACK") }
            throw error
        }
        do {
            try query("COMMIT")
        } catch {
            if isHealthy { _ = try? query("ROLLBACK") }
            throw error
        }
        return value
    }

    /// How a transaction sees concurrent commits.
    public enum Isolation: Sendable {
        /// Each statement sees what was committed before it started (PostgreSQL's default).
        case readCommitted
        /// Every statement sees one snapshot, taken at the first statement.
        case repeatableRead
    }

    // MARK: COPY

    /// `COPY … FROM STDIN` (text format): `write` appends rows to a `CopyWriter`, which streams
    /// them to the server in batches. Returns the number of rows the server took.
    /// A throw from `write` aborts the COPY so that nothing of it is stored.
    @discardableResult
    public func copy(_ sql: String, _ write: (inout CopyWriter) throws -> Void) throws -> Int {
        let start = PQexec(handle, sql)
        guard let start, PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start)   // throws the server's reason
            throw PostgresError.unexpectedResult("\(sql.prefix(40))… did not start a COPY FROM STDIN")
        }
        PQclear(start)
        var writer = CopyWriter(connection: self)
        do {
            try write(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by barfill")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw failure(nil) }
        let result = try check(PQgetResult(handle))
        drainResults()
        return result.affectedRows
    }

    /// `COPY … TO STDOUT` (text format): hands each data row's bytes (with the trailing newline) to `row`.
    public func copyOut(_ sql: String, _ row: (UnsafeRawBufferPointer) throws -> Void) throws {
        let start = PQexec(handle, sql)
        guard let start, PQresultStatus(start) == PGRES_COPY_OUT else {
            _ = try check(start)
            throw PostgresError.unexpectedResult("\(sql.prefix(40))… did not start a COPY TO STDOUT")
        }
        PQclear(start)
        var pending: Error? = nil
        while true {
            var buffer: UnsafeMutablePointer<CChar>? = nil
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                if pending == nil {
                    do { try row(UnsafeRawBufferPointer(start: buffer, count: Int(length))) } catch { pending = error }
                }
                PQfreemem(buffer)
            } else if length == -1 {
                break
            } else {
                drainResults()
                throw failure(nil)
            }
        }
        _ = try check(PQgetResult(handle))
        drainResults()
        if let pending { throw pending }
    }

    /// Sends one batch of COPY data; used by `CopyWriter`.
    func putCopyData(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard !bytes.isEmpty else { return }
        let base = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
        guard PQputCopyData(handle, base, Int32(bytes.count)) == 1 else { throw failure(nil) }
    }

    // MARK: Errors

    private func check(_ result: OpaquePointer?, statement: String? = nil) throws(PostgresError) -> PostgresResult {
        guard let result else { throw failure(nil, statement: statement) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(result, statement: statement)
        default:
            let error = failure(result, statement: statement)
            PQclear(result)
            throw error
        }
    }

    private func drainResults() {
        while let extra = PQgetResult(handle) { PQclear(extra) }
    }

    /// The typed error for a failed result (or for the connection when there is none).
    private func failure(_ result: OpaquePointer?, statement: String? = nil) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return redact(String(cString: value))
        }
        let state = field(UInt8(ascii: "C")).map(SQLState.init(rawValue:))
        let reason = redact(result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) }
            .flatMap { $0.isEmpty ? nil : $0 } ?? Self.message(handle))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let lost = state?.endsSession ?? false
        if PQstatus(handle) != CONNECTION_OK || lost {
            return .connectionLost(reason: field(UInt8(ascii: "M")) ?? reason)
        }
        guard let state else { return .unexpectedResult(reason) }
        return .server(sqlState: state, message: field(UInt8(ascii: "M")) ?? reason,
                       detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")), statement: statement)
    }

    private func redact(_ text: String) -> String { Self.redact(text, secrets: secrets) }

    private static func redact(_ text: String, secrets: [String]) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "***") }
        return text
    }

    private static func message(_ handle: OpaquePointer) -> String {
        PQerrorMessage(handle).map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown error"
    }

    /// The password in a conninfo string or URL, found by libpq's own parser.
    private static func passwords(in conninfo: String) -> [String] {
        guard !conninfo.isEmpty, let options = PQconninfoParse(conninfo, nil) else { return [] }
        defer { PQconninfoFree(options) }
        var found: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                let password = String(cString: value)
                found.append(password)
                // A URL carries it percent-encoded.
                if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { found.append(encoded) }
            }
            option += 1
        }
        return found
    }
}

/// Calls `body` with a C array of NUL-terminated strings (NULL entries for SQL NULL) alive for its duration.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in pointers { free(pointer) } }
    let constants = pointers.map { UnsafePointer($0) }
    return constants.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension PostgresConnection {
    /// True inside BEGIN … COMMIT (also when the transaction has failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        let status = transactionStatus
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs `body` in the caller's open transaction, or in a new one when there is none,
    /// so store functions compose into one transaction per chunk.
    @discardableResult
    public func withinTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if isInTransaction { return try body(self) }
        return try transaction(body)
    }
}
