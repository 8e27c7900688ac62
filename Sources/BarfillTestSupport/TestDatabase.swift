import BarfillCore
import BarfillPostgres
import Foundation

/// A throwaway PostgreSQL database for one test or benchmark: created with a unique name from
/// `BARFILL_TEST_DATABASE_URL` (exported by scripts/with-postgres), loaded with a schema, and
/// dropped when the value goes away.
public final class TestDatabase: @unchecked Sendable {
    /// Which schema the database starts with.
    public enum Schema: Sendable {
        /// SwiftBolt's tables as the app created them (enum-typed, uuid ids, numeric prices),
        /// without barfill's migrations: barfill must work on it unchanged.
        case swiftBolt
        /// `barfill migrate` on an empty database: sql/ migrations only.
        case freshInstall
    }

    /// The server's admin URL, nil when the PostgreSQL tests cannot run.
    public static var serverURL: String? { nonEmpty(ProcessInfo.processInfo.environment["BARFILL_TEST_DATABASE_URL"]) }
    /// The same server through a transaction-mode pgbouncer, when scripts/with-postgres started one.
    public static var serverPoolerURL: String? { nonEmpty(ProcessInfo.processInfo.environment["BARFILL_TEST_POOLER_URL"]) }
    public static var isAvailable: Bool { serverURL != nil }
    public static let unavailableReason =
        "BARFILL_TEST_DATABASE_URL is not set: run the PostgreSQL tests with `make test` (or scripts/with-postgres swift test)"
    /// True when a suite that needs PostgreSQL runs: when a server is there, and also when there is
    /// none but every test must run (CI, `make test`), so `fresh` fails the test instead of a skip.
    public static var runsPostgresTests: Bool { isAvailable || TestRun.requiresEverything }
    /// The same for tests that need the transaction-mode pooler.
    public static var runsPoolerTests: Bool { serverPoolerURL != nil || TestRun.requiresEverything }

    /// The database's name and URLs (direct, and through the pooler when there is one).
    public let name: String
    public let url: String
    public let poolerURL: String?
    /// A direct connection to it, for fixtures and assertions.
    public let connection: PostgresConnection
    private let serverURL: String

    /// Creates a database with a unique name holding `schema`: a copy of the schema's template
    /// database, which was loaded once (the schema's SQL and migrations take several times longer
    /// than the copy, and the suite makes over a hundred databases).
    public static func fresh(schema: Schema) throws -> TestDatabase {
        guard let serverURL else { throw TestDatabaseError.unavailable }
        let name = "barfill_test_\(getpid())_\(UUID().uuidString.prefix(8).lowercased())"
        let template = try Self.template(of: schema, serverURL: serverURL)
        let admin = try PostgresConnection(url: serverURL)
        // CREATE DATABASE takes no parameters; both names are generated here, never input.
        try admin.query("CREATE DATABASE \(name) TEMPLATE \(template)")
        return try TestDatabase(name: name, serverURL: serverURL)
    }

    /// Template databases made by this process, by schema; `templateLock` guards it and the making.
    nonisolated(unsafe) private static var templates: [Schema: String] = [:]
    private static let templateLock = NSLock()

    /// The template holding `schema`, named by a hash of its SQL so a changed migration gets a new
    /// one and a server shared by several runs keeps one per content. Loaded under another name and
    /// renamed when complete, so a concurrent run never copies a half-loaded template.
    private static func template(of schema: Schema, serverURL: String) throws -> String {
        templateLock.lock()
        defer { templateLock.unlock() }
        if let name = templates[schema] { return name }
        let tag: String, sql: String
        switch schema {
        case .swiftBolt: (tag, sql) = ("swiftbolt", SwiftBoltSchema.sql)
        case .freshInstall: (tag, sql) = ("migrated", Migration.all.map(\.sql).joined(separator: "\n"))
        }
        let name = "barfill_template_\(tag)_\(SHA256.hex(sql).prefix(16))"
        let admin = try PostgresConnection(url: serverURL)
        if try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount == 0 {
            let loading = "\(name)_\(getpid())"
            try admin.query("DROP DATABASE IF EXISTS \(loading)")
            try admin.query("CREATE DATABASE \(loading)")
            try load(schema, into: try url(serverURL, database: loading))
            do {
                try admin.query("ALTER DATABASE \(loading) RENAME TO \(name)")
            } catch {
                guard error.sqlState == "42P04" else { throw error }   // duplicate_database: another run made it first
                _ = try? admin.query("DROP DATABASE IF EXISTS \(loading)")
            }
        }
        templates[schema] = name
        return name
    }

    /// Loads `schema` through a connection closed on return: a template being copied must have no sessions.
    private static func load(_ schema: Schema, into url: String) throws {
        let connection = try PostgresConnection(url: url)
        switch schema {
        case .swiftBolt: try connection.execute(script: SwiftBoltSchema.sql)
        case .freshInstall: try Migrator(connection: connection).migrate()
        }
    }

    private init(name: String, serverURL: String) throws {
        self.name = name
        self.serverURL = serverURL
        self.url = try Self.url(serverURL, database: name)
        self.poolerURL = try Self.serverPoolerURL.map { try Self.url($0, database: name) }
        self.connection = try PostgresConnection(url: url)
    }

    deinit {
        // Best effort: a leftover database in a throwaway cluster is harmless.
        if let admin = try? PostgresConnection(url: serverURL) {
            _ = try? admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// A new direct connection (for a second session, a terminated one, a scan off the fixture's).
    public func connect() throws -> PostgresConnection { try PostgresConnection(url: url) }

    /// A new connection through the transaction-mode pooler, nil when there is none.
    public func connectThroughPooler() throws -> PostgresConnection? { try poolerURL.map { try PostgresConnection(url: $0) } }

    private static func url(_ server: String, database: String) throws -> String {
        guard var components = URLComponents(string: server), components.scheme?.hasPrefix("postgres") == true else {
            throw TestDatabaseError.notAURL
        }
        components.path = "/" + database
        guard let url = components.string else { throw TestDatabaseError.notAURL }
        return url
    }

    private static func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }

    // MARK: Fixtures

    /// Inserts a symbol and returns its id.
    @discardableResult
    public func insertSymbol(_ ticker: String, primarySource: String = "massive") throws -> String {
        try connection.query("""
            INSERT INTO symbols (ticker, asset_type, primary_source) VALUES ($1, 'stock', $2::text::data_provider)
            RETURNING id::text
            """, [ticker, primarySource]).scalar()!
    }

    /// Puts symbols on a new watchlist and returns its id.
    @discardableResult
    public func insertWatchlist(_ name: String, symbolIds: [String]) throws -> String {
        let id = try connection.query("INSERT INTO watchlists (name) VALUES ($1) RETURNING id::text", [name]).scalar()!
        try connection.query("""
            INSERT INTO watchlist_items (watchlist_id, symbol_id) SELECT $1::uuid, s FROM unnest($2::uuid[]) s
            """, [id, symbolIds])
        return id
    }

    /// Loads bars straight into `ohlc_bars` with plain INSERTs (no upsert logic, no COPY), as fixture
    /// data. Deliberately not `BarStore.copy`: a bug in barfill's writer must not hide in both the
    /// fixture and the code under test. Returns the number of rows written.
    @discardableResult
    public func insertBars(_ bars: some Sequence<Bar>, symbolId: String, timeframe: Timeframe,
                           provider: String = "massive") throws -> Int {
        let bars = Array(bars)
        return try connection.withinTransaction { connection in
            var written = 0
            var start = 0
            while start < bars.count {
                let batch = bars[start..<min(start + 5_000, bars.count)]
                let rows = try connection.query("""
                    INSERT INTO ohlc_bars (symbol_id, timeframe, ts, open, high, low, close, volume, provider)
                    SELECT $1::uuid, $2::text::timeframe, to_timestamp(b.ts), b.open, b.high, b.low, b.close, b.volume,
                           $3::text::data_provider
                    FROM unnest($4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
                         AS b(ts, open, high, low, close, volume)
                    RETURNING 1
                    """, [symbolId, timeframe.rawValue, provider, batch.map(\.ts), batch.map(\.open), batch.map(\.high),
                          batch.map(\.low), batch.map(\.close), batch.map(\.volume)])
                written += rows.rowCount
                start += batch.count
            }
            return written
        }
    }

    /// Bar starts (Unix seconds) of one series in `ohlc_bars`, ascending.
    public func barTimes(symbolId: String, timeframe: Timeframe) throws -> [Int64] {
        let rows = try connection.query("""
            SELECT extract(epoch FROM ts)::bigint FROM ohlc_bars WHERE symbol_id = $1::uuid AND timeframe::text = $2 ORDER BY ts
            """, [symbolId, timeframe])
        return try (0..<rows.rowCount).map { try rows.int64($0, 0)! }
    }

    /// Number of rows in `ohlc_bars`.
    public func barCount() throws -> Int { try connection.query("SELECT count(*) FROM ohlc_bars").int(0, 0) ?? 0 }
}

/// Why a test database could not be made.
public enum TestDatabaseError: LocalizedError, CustomStringConvertible {
    case unavailable
    case notAURL

    public var errorDescription: String? {
        switch self {
        case .unavailable: TestDatabase.unavailableReason + (TestRun.requiresEverything ? "; " + TestRun.whyNotSkipped : "")
        case .notAURL: "BARFILL_TEST_DATABASE_URL must be a postgresql:// URL"
        }
    }

    /// What a failed test shows (swift-testing prints errors with `description`).
    public var description: String { errorDescription ?? "test database unavailable" }
}

/// A bar with plausible prices for a fixture; the prices vary with `ts` so updates are visible.
public func fixtureBar(at ts: Int64, price: Double = 100) -> Bar {
    let wiggle = Double(ts % 97) / 100
    return Bar(ts: ts, open: price + wiggle, high: price + wiggle + 1, low: price + wiggle - 1,
               close: price + wiggle + 0.25, volume: 1_000 + Double(ts % 1_000))
}
