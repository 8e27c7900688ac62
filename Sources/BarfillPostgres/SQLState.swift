/// A PostgreSQL SQLSTATE code, with names for the ones barfill handles.
public struct SQLState: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// The two-character class (`"08"` for connection exceptions).
    public var errorClass: Substring { rawValue.prefix(2) }

    /// 23505: a unique constraint refused a row (apply's COPY meeting a bar another writer stored).
    public static let uniqueViolation: SQLState = "23505"
    /// 57014: the statement was cancelled (`PostgresCanceller`, a stop).
    public static let queryCanceled: SQLState = "57014"
    /// 42501: the role lacks a privilege (for example a read-only role asked to write).
    public static let insufficientPrivilege: SQLState = "42501"
    /// 42P01: a table does not exist (for example barfill's tables before `barfill migrate`).
    public static let undefinedTable: SQLState = "42P01"
    /// 25006: a write in a read-only transaction (a hot standby, `default_transaction_read_only`).
    public static let readOnlySQLTransaction: SQLState = "25006"
    /// 22023: a function refused an argument (barfill's SQL functions raise it for bad input).
    public static let invalidParameterValue: SQLState = "22023"
    /// 22012: division by zero.
    public static let divisionByZero: SQLState = "22012"
    /// 08P01: a protocol violation (a wrong parameter count): the connection stays usable.
    public static let protocolViolation: SQLState = "08P01"

    /// The session is gone: class 08 (connection exception, except a protocol violation) or
    /// 57P01–57P03 (the server is shutting the session down).
    public var endsSession: Bool {
        (errorClass == "08" && self != .protocolViolation) || rawValue.hasPrefix("57P0")
    }
}
