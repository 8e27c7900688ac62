import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

@Suite struct EmbeddedMigrationTests {
    @Test func embeddedMigrationsEqualTheFilesInSQL() throws {
        let directory = repositoryRoot.appendingPathComponent("sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migration.all.map(\.name),
                "run sql/embed-migrations.sh after changing sql/")
        for (file, migration) in zip(files, Migration.all) {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(text == migration.sql + "\n", "\(file) differs from its embedded copy: run sql/embed-migrations.sh")
            #expect(Int(file.prefix(4)) == migration.version)
        }
        #expect(Migration.all.map(\.version) == Migration.all.map(\.version).sorted())
    }
}

@Suite(.serialized, .requiresPostgres)
struct MigrationTests {
    /// `ohlc_bars`' columns and indexes as the catalog describes them.
    private func shapeOfBars(_ connection: PostgresConnection) throws -> [String] {
        let rows = try connection.query("""
            SELECT attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull
            FROM pg_attribute WHERE attrelid = 'ohlc_bars'::regclass AND attnum > 0 AND NOT attisdropped
            UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename = 'ohlc_bars'
            UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'ohlc_bars'::regclass
            ORDER BY 1
            """)
        return (0..<rows.rowCount).map { rows.string($0, 0)! }
    }

    @Test func migratingAnEmptyDatabaseCreatesEveryTableOnceAndThenDoesNothing() throws {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let migrator = Migrator(connection: db.connection)
        #expect(try migrator.appliedVersions() == Set(Migration.all.map(\.version)))
        #expect(try migrator.pending().isEmpty)
        #expect(try migrator.migrate().isEmpty)
        for table in ["symbols", "ohlc_bars", "watchlists", "watchlist_items",
                      "barfill.schema_migrations", "barfill.backfill_status", "barfill.empty_ranges"] {
            #expect(try db.connection.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar() == "t", "\(table)")
        }
        let enumLabels = try db.connection.query("SELECT enum_range(NULL::timeframe)::text").scalar()
        #expect(enumLabels == "{m15,h1,h4,d1,w1}")
    }

    @Test func migratingSwiftBoltLeavesOhlcBarsUntouched() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let symbol = try db.insertSymbol("AAPL")
        try db.insertBars([fixtureBar(at: 1_709_301_600)], symbolId: symbol, timeframe: .h1)
        let before = try shapeOfBars(db.connection)
        let migrator = Migrator(connection: db.connection)
        #expect(try migrator.appliedVersions().isEmpty)
        let applied = try migrator.migrate()
        #expect(applied.map(\.version) == Migration.all.map(\.version))
        #expect(try shapeOfBars(db.connection) == before)
        #expect(try db.barCount() == 1)
        // The app's enum keeps its own labels: 0001 created nothing that already existed.
        #expect(try db.connection.query("SELECT enum_range(NULL::asset_type)::text").scalar() == "{stock,etf,crypto,forex,index}")
        #expect(try migrator.migrate().isEmpty)
    }

    @Test(.requiresPooler) func migratesThroughATransactionModePooler() throws {
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        let pooled = try #require(try db.connectThroughPooler())
        #expect(try Migrator(connection: pooled).migrate().count == Migration.all.count)
        #expect(try Migrator(connection: pooled).migrate().isEmpty)
        #expect(try Migrator(connection: db.connection).pending().isEmpty)
    }
}
