import Foundation

/// What went wrong talking to PostgreSQL. Messages never contain the connection URL or its password.
public enum PostgresError: LocalizedError, Equatable, Sendable {
    /// libpq could not open a connection (bad host, refused, authentication failed).
    case cannotConnect(reason: String)
    /// The connection broke mid-conversation (server restart, `pg_terminate_backend`, network):
    /// the current transaction was not committed.
    case connectionLost(reason: String)
    /// The server rejected the statement named `statement` (nil for unnamed SQL).
    case server(sqlState: SQLState, message: String, detail: String?, hint: String?, statement: String?)
    /// A statement returned something other than what the caller expected.
    case unexpectedResult(String)
    /// A value handed to the database cannot be written (a non-finite price, a bad uuid).
    case invalidInput(String)
    /// libpq could not allocate memory.
    case outOfMemory

    /// The SQLSTATE code when the server sent one.
    public var sqlState: SQLState? {
        if case let .server(code, _, _, _, _) = self { return code }
        return nil
    }

    /// The name of the statement the server rejected, when it had one.
    public var statement: String? {
        if case let .server(_, _, _, _, name) = self { return name }
        return nil
    }

    /// The server is gone or went away (refused, restarted, terminated, a pooler restart): nothing
    /// of the open transaction was committed, and a new connection may well succeed.
    public var isConnectionLoss: Bool {
        switch self {
        case .cannotConnect, .connectionLost: true
        case .server, .unexpectedResult, .invalidInput, .outOfMemory: false
        }
    }

    /// The statement was cancelled (`PostgresCanceller`, a stop): nothing of its transaction was committed.
    public var isQueryCancelled: Bool { sqlState == .queryCanceled }

    /// The role lacks a privilege (for example a read-only role asked to write).
    public var isInsufficientPrivilege: Bool { sqlState == .insufficientPrivilege }
    /// A table does not exist (for example barfill's tables before `barfill migrate`).
    public var isUndefinedTable: Bool { sqlState == .undefinedTable }
    /// A write in a read-only transaction (a hot standby, `default_transaction_read_only`).
    public var isReadOnlyTransaction: Bool { sqlState == .readOnlySQLTransaction }

    public var errorDescription: String? {
        switch self {
        case let .cannotConnect(reason):
            "cannot connect to PostgreSQL: \(reason). Check --database, DATABASE_URL or the PG* variables."
        case let .connectionLost(reason):
            "the PostgreSQL connection was lost: \(reason). Nothing from the unfinished transaction was written; run the command again."
        case let .server(code, message, detail, hint, statement):
            "PostgreSQL error \(code)" + (statement.map { " in \($0)" } ?? "") + ": \(message)" + (detail.map { " (\($0))" } ?? "") + (hint.map { ". Hint: \($0)" } ?? "")
        case let .unexpectedResult(what):
            "unexpected answer from PostgreSQL: \(what)"
        case let .invalidInput(what):
            "cannot write to PostgreSQL: \(what)"
        case .outOfMemory:
            "libpq ran out of memory"
        }
    }
}
