import Logging

/// One versioned schema change from sql/ (embedded in the binary).
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies pending migrations: all of them in one transaction, serialised between concurrent
/// runs by a transaction-scoped advisory lock (a session lock would not survive a
/// transaction-mode pooler). Running it again is a no-op.
public struct Migrator {
    /// Key of the advisory lock: "barfill" in ASCII.
    static let lockKey: Int64 = 0x62_61_72_66_69_6C_6C

    private let connection: PostgresConnection
    private let migrations: [Migration]

    public init(connection: PostgresConnection, migrations: [Migration] = Migration.all) {
        self.connection = connection
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Versions already applied (none before the first `barfill migrate`).
    public func appliedVersions() throws -> Set<Int> {
        let exists = try connection.query("SELECT to_regclass('barfill.schema_migrations') IS NOT NULL").scalar() == "t"
        guard exists else { return [] }
        let rows = try connection.query(PostgresQuery("applied migrations", "SELECT version FROM barfill.schema_migrations"))
        let version = try rows.column("version", as: Int.self)
        return Set(try rows.rows.map { try $0.decode(version) })
    }

    /// Migrations not applied yet, in order.
    public func pending() throws -> [Migration] {
        let applied = try appliedVersions()
        return migrations.filter { !applied.contains($0.version) }
    }

    /// Applies what is pending and returns it (empty when the schema is current).
    @discardableResult
    public func migrate(logger: Logger? = nil) throws -> [Migration] {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            let pending = try self.pending()
            for migration in pending {
                logger?.info("applying migration \(migration.name)")
                try connection.execute(script: migration.sql)
            }
            for migration in pending {
                try connection.query(
                    "INSERT INTO barfill.schema_migrations (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
                    [migration.version, migration.name])
            }
            try Self.installWatchlistTrigger(connection, logger: logger)
            return pending
        }
    }

    /// Runs on every migrate, not only when 0003 is applied: SwiftBolt's `watchlist_items` may
    /// appear after barfill's tables, and the trigger follows it then.
    static func installWatchlistTrigger(_ connection: PostgresConnection, logger: Logger?) throws {
        let present = try connection.query(
            "SELECT to_regprocedure('barfill.install_watchlist_trigger()') IS NOT NULL").scalar() == "t"
        guard present else { return }
        if try connection.query("SELECT barfill.install_watchlist_trigger()").scalar() == "t" {
            logger?.debug("watchlist trigger in place")
        }
    }
}
