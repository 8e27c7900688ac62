import Foundation

/// What went wrong talking to PostgreSQL. Messages never contain the connection URL or its password.
public enum PostgresError: LocalizedError, Equatable, Sendable {
    /// libpq could not open a connection (bad host, refused, authentication failed).
    case cannotConnect(reason: String)
    /// The connection broke mid-conversation (server restart, `pg_terminate_backend`, network):
    /// the current transaction was not committed.
    case connectionLost(reason: String)
    /// The server rejected a statement. `sqlState` is the five-character SQLSTATE code.
    case server(sqlState: String, message: String, detail: String?, hint: String?)
    /// A statement returned something other than what the caller expected.
    case unexpectedResult(String)
    /// A value handed to the database cannot be written (a non-finite price, a bad uuid).
    case invalidInput(String)
    /// libpq could not allocate memory.
    case outOfMemory

    /// The SQLSTATE code when the server sent one.
    public var sqlState: String? {
        if case let .server(code, _, _, _) = self { return code }
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

    /// 57014: the statement was cancelled (`PostgresCanceller`, a stop): nothing of its transaction was committed.
    public var isQueryCancelled: Bool { sqlState == "57014" }

    /// 42501: the role lacks a privilege (for example a read-only role asked to write).
    public var isInsufficientPrivilege: Bool { sqlState == "42501" }
    /// 42P01: a table does not exist (for example barfill's tables before `barfill migrate`).
    public var isUndefinedTable: Bool { sqlState == "42P01" }
    /// 25006: a write in a read-only transaction (a hot standby, `default_transaction_read_only`).
    public var isReadOnlyTransaction: Bool { sqlState == "25006" }

    public var errorDescription: String? {
        switch self {
        case let .cannotConnect(reason):
            "cannot connect to PostgreSQL: \(reason). Check --database, DATABASE_URL or the PG* variables."
        case let .connectionLost(reason):
            "the PostgreSQL connection was lost: \(reason). Nothing from the unfinished transaction was written; run the command again."
        case let .server(code, message, detail, hint):
            "PostgreSQL error \(code): \(message)" + (detail.map { " (\($0))" } ?? "") + (hint.map { ". Hint: \($0)" } ?? "")
        case let .unexpectedResult(what):
            "unexpected answer from PostgreSQL: \(what)"
        case let .invalidInput(what):
            "cannot write to PostgreSQL: \(what)"
        case .outOfMemory:
            "libpq ran out of memory"
        }
    }
}
