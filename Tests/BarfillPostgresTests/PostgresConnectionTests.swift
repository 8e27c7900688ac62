import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

@Suite(.serialized, .requiresPostgres)
struct PostgresConnectionTests {
    @Test func bindsParametersInsteadOfSplicingThem() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let hostile = "x'); DROP TABLE symbols; --"
        let rows = try db.connection.query("SELECT $1::text, $2::bigint + 1, $3::double precision, $4::boolean, $5::text IS NULL",
                                           [hostile, Int64(41), 2.5, true, nil])
        #expect(rows.string(0, 0) == hostile)
        #expect(try rows.int64(0, 1) == 42)
        #expect(try rows.double(0, 2) == 2.5)
        #expect(rows.bool(0, 3) == true)
        #expect(rows.bool(0, 4) == true)
        #expect(try db.connection.query("SELECT to_regclass('symbols') IS NOT NULL").scalar() == "t")
    }

    @Test func arrayAndTimestampParametersRoundTrip() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let texts = ["a\"b", "c\\d", "e,f", "{g}", ""]
        let rows = try db.connection.query("SELECT array_length($1::text[], 1), ($1::text[])[2], extract(epoch FROM $2::timestamptz)::bigint",
                                           [texts, Timestamp(1_709_301_600)])
        #expect(try rows.int(0, 0) == texts.count)
        #expect(rows.string(0, 1) == "c\\d")
        #expect(try rows.int64(0, 2) == 1_709_301_600)
    }

    @Test func serverErrorsCarryTheirSQLState() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let division = #expect(throws: PostgresError.self) { try db.connection.query("SELECT 1 / $1::int", [0]) }
        #expect(division?.sqlState == "22012")
        #expect(division?.localizedDescription.contains("division by zero") == true)
        let missing = #expect(throws: PostgresError.self) { try db.connection.query("SELECT * FROM no_such_table") }
        #expect(missing?.isUndefinedTable == true)
        #expect(missing?.sqlState == "42P01")
        // The connection is still usable after an error outside a transaction.
        #expect(try db.connection.query("SELECT 1").scalar() == "1")
    }

    @Test func readsColumnsByNameWithTypesCheckedOnce() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let rows = try db.connection.query(PostgresQuery("sample", """
            SELECT n AS id, 'x' || n AS label, CASE WHEN n = 2 THEN NULL ELSE n * 1.5 END::float8 AS price, n > 1 AS later
            FROM generate_series(1, 3) n ORDER BY n
            """))
        let id = try rows.column("id", as: Int64.self), label = try rows.column("label", as: String.self)
        let price = try rows.column("price", as: Double?.self), later = try rows.column("later", as: Bool.self)
        let decoded = try rows.rows.map { try $0.decode(id, label, price, later) }
        #expect(decoded.map(\.0) == [1, 2, 3])
        #expect(decoded.map(\.1) == ["x1", "x2", "x3"])
        #expect(decoded.map(\.2) == [1.5, nil, 4.5])
        #expect(decoded.map(\.3) == [false, true, true])
        #expect(try rows[1].decode("label", as: String.self) == "x2")

        // A text column asked for as an integer, an unknown name and a NULL into a non-optional
        // are refused with the statement's name, before or without reading a wrong value.
        let wrongType = #expect(throws: PostgresError.self) { try rows.column("label", as: Int64.self) }
        #expect(wrongType?.localizedDescription.contains("sample: column label") == true)
        let unknown = #expect(throws: PostgresError.self) { try rows.column("ticker", as: String.self) }
        #expect(unknown?.localizedDescription.contains("no column ticker") == true)
        let null = #expect(throws: PostgresError.self) { try rows[1].decode(rows.column("price", as: Double.self)) }
        #expect(null?.localizedDescription.contains("sample: column price is NULL") == true)
    }

    @Test func serverErrorsNameTheFailingStatement() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let division = #expect(throws: PostgresError.self) {
            try db.connection.query(PostgresQuery("divide", "SELECT 1 / $1::int", [0]))
        }
        #expect(division?.sqlState == .divisionByZero)
        #expect(division?.statement == "divide")
        #expect(division?.localizedDescription.hasPrefix("PostgreSQL error 22012 in divide: division by zero") == true)
        try db.connection.query("CREATE TABLE once (n int PRIMARY KEY)")
        try db.connection.query("INSERT INTO once VALUES (1)")
        let duplicate = #expect(throws: PostgresError.self) {
            try db.connection.query(PostgresQuery("insert once", "INSERT INTO once VALUES ($1)", [1]))
        }
        #expect(duplicate?.sqlState == .uniqueViolation)
        #expect(SQLState.uniqueViolation.rawValue == "23505")
    }

    @Test func connectionErrorsNeverShowThePassword() throws {
        let password = "pa55-w0rd-never-printed"
        // A closed port on loopback: the connect fails after libpq parsed the password.
        let url = "postgresql://someone:\(password)@127.0.0.1:1/nowhere?connect_timeout=2"
        do {
            _ = try PostgresConnection(url: url)
            Issue.record("connecting to port 1 should fail")
        } catch {
            guard case .cannotConnect = error else { Issue.record("expected cannotConnect, got \(error)"); return }
            #expect(!error.localizedDescription.contains(password))
            #expect(!String(describing: error).contains(password))
        }
    }

    /// scripts/with-postgres makes `barfill_pw` log in with scram-sha-256 (everyone else is trusted).
    @Test func wrongPasswordErrorDoesNotEchoIt() throws {
        let environment = ProcessInfo.processInfo.environment
        let db = try TestDatabase.fresh(schema: .freshInstall)
        guard let role = environment["BARFILL_TEST_PASSWORD_ROLE"], let right = environment["BARFILL_TEST_PASSWORD_ROLE_PASSWORD"] else {
            Issue.record("BARFILL_TEST_PASSWORD_ROLE is not set: run the tests through scripts/with-postgres")
            return
        }
        var components = try #require(URLComponents(string: db.url))
        components.user = role
        components.password = right
        // The right password works, so a failure below is the password's, not the role's.
        let rightURL = try #require(components.string)
        _ = try PostgresConnection(url: rightURL)
        for secret in ["wrong%secret", "wr0ng-s3cret-never-printed"] {
            components.password = secret
            let url = try #require(components.string)
            do {
                _ = try PostgresConnection(url: url)
                Issue.record("a wrong password logged in: the cluster must require one for \(role)")
            } catch {
                guard case .cannotConnect = error else { Issue.record("expected cannotConnect, got \(error)"); continue }
                let shown = error.localizedDescription + " " + String(describing: error)
                #expect(shown.contains("password authentication failed"))
                #expect(!shown.contains(secret))
                #expect(!shown.contains(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
                #expect(!shown.contains("wrong%25secret"))
            }
        }
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.connection.transaction { connection in
                try connection.query("INSERT INTO symbols (ticker) VALUES ($1)", ["AAPL"])
                #expect(connection.isInTransaction)
                throw Stop()
            }
        }
        #expect(!db.connection.isInTransaction)
        #expect(try db.connection.query("SELECT count(*) FROM symbols").scalar() == "0")
        try db.connection.transaction { try $0.query("INSERT INTO symbols (ticker) VALUES ($1)", ["MSFT"]) }
        #expect(try db.connection.query("SELECT count(*) FROM symbols").scalar() == "1")
    }

    @Test func copyEscapesTextTheWayTheServerReadsIt() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let connection = db.connection
        let texts = ["plain", "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "ünïcødé €", "", "trailing\\"]
        let copied = try connection.transaction { connection in
            try connection.query("CREATE TEMP TABLE copied (n int, t text, x double precision, at timestamptz, maybe text) ON COMMIT DROP")
            let count = try connection.copy("COPY copied (n, t, x, at, maybe) FROM STDIN") { writer in
                for (index, text) in texts.enumerated() {
                    writer.append(index)
                    writer.append(text)
                    try writer.append(Double(index) / 8)
                    writer.appendTimestamp(-86_400 + Int64(index) * 3_661)
                    if index % 2 == 0 { writer.appendNull() } else { writer.append("v") }
                    try writer.endRow()
                }
            }
            #expect(count == texts.count)
            let rows = try connection.query("SELECT t, x, extract(epoch FROM at)::bigint, maybe FROM copied ORDER BY n")
            return try (0..<rows.rowCount).map { (rows.string($0, 0)!, try rows.double($0, 1)!, try rows.int64($0, 2)!, rows.string($0, 3)) }
        }
        #expect(copied.map(\.0) == texts)
        #expect(copied.map(\.1) == texts.indices.map { Double($0) / 8 })
        #expect(copied.map(\.2) == texts.indices.map { -86_400 + Int64($0) * 3_661 })
        #expect(copied.map(\.3) == texts.indices.map { $0 % 2 == 0 ? nil : "v" })
    }

    @Test func copyStreamsManyBatches() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let rows = 200_000   // several 1 MB batches
        let sum = try db.connection.transaction { connection in
            try connection.query("CREATE TEMP TABLE many (n bigint, label text) ON COMMIT DROP")
            let count = try connection.copy("COPY many FROM STDIN") { writer in
                for n in 0..<rows {
                    writer.append(n)
                    writer.append("row number \(n)")
                    try writer.endRow()
                }
            }
            #expect(count == rows)
            return try connection.query("SELECT sum(n), count(DISTINCT label) FROM many")
        }
        #expect(try sum.int64(0, 0) == Int64(rows * (rows - 1) / 2))
        #expect(try sum.int(0, 1) == rows)
    }

    @Test func aFailedCopyLeavesNothingAndTheConnectionUsable() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        try db.connection.query("CREATE TABLE target (n int NOT NULL)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.connection.copy("COPY target FROM STDIN") { writer in
                writer.append(1)
                try writer.endRow()
                throw Stop()
            }
        }
        #expect(throws: PostgresError.self) {
            try db.connection.copy("COPY target FROM STDIN") { writer in
                writer.append("not a number")
                try writer.endRow()
            }
        }
        #expect(try db.connection.query("SELECT count(*) FROM target").scalar() == "0")
        #expect(!db.connection.isInTransaction)
    }

    @Test func copyOutHandsBackEveryRow() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        var lines: [String] = []
        try db.connection.copyOut("COPY (SELECT n, 'a' || n FROM generate_series(1, 5) n) TO STDOUT") { bytes in
            lines.append(String(decoding: bytes, as: UTF8.self))
        }
        #expect(lines == (1...5).map { "\($0)\ta\($0)\n" })
    }

    @Test func aTerminatedBackendGivesConnectionLost() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let victim = try db.connect()
        let pid = try victim.query("SELECT pg_backend_pid()").scalar()!
        try db.connection.query("SELECT pg_terminate_backend($1::int)", [pid])
        do {
            try victim.query("SELECT 1")
            Issue.record("a query on a terminated backend should fail")
        } catch {
            guard case .connectionLost = error else { Issue.record("expected connectionLost, got \(error)"); return }
        }
        #expect(!victim.isHealthy)
    }

    @Test func asyncDatabaseRunsOffTheCooperativePool() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let database = try await PostgresDatabase.connect(url: db.url)
        let answer = try await database.run { connection in
            try connection.query("SELECT $1::int * 2", [21]).scalar()
        }
        #expect(answer == "42")
    }
}

@Suite(.serialized, .requiresPostgres)
struct PostgresCancelTests {
    @Test func aRunningStatementIsCancelledFromAnotherThread() async throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let database = try await PostgresDatabase.connect(url: db.url, label: "test.cancel")
        let started = Date()
        async let sleeping: Void = database.run { connection in _ = try connection.query("SELECT pg_sleep(60)") }
        // Cancel until the statement is seen running (a cancel before it starts does nothing).
        let admin = try db.connect()
        var running = 0
        for _ in 0..<200 where running == 0 {
            running = try admin.query("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'
                """, [db.name]).int(0, 0) ?? 0
            if running == 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        #expect(running == 1)
        database.cancelRunningStatement()
        do {
            try await sleeping
            Issue.record("pg_sleep(60) was not cancelled")
        } catch let error as PostgresError {
            #expect(error.isQueryCancelled)
            #expect(!error.isConnectionLoss)
        }
        #expect(Date().timeIntervalSince(started) < 50)
        // The connection stays usable after a cancel.
        #expect(try await database.run { try $0.query("SELECT 1").scalar() } == "1")
    }
}
