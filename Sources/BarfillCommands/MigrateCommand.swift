import ArgumentParser
import BarfillPostgres
import Foundation

/// `barfill migrate`: applies sql/'s pending migrations (embedded in the binary).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create barfill's tables (and SwiftBolt's on an empty database); never alters ohlc_bars.",
        discussion: """
            Applies every pending migration in one transaction. Running it again is a no-op, and two \
            concurrent runs wait for each other. Works through a transaction-mode pooler.
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "List pending migrations without applying them.")
    var dryRun = false

    func run() async throws {
        let dryRun = dryRun
        let applied = try await database.database().run { connection in
            let migrator = Migrator(connection: connection)
            return dryRun ? try migrator.pending().map(\.name) : try migrator.migrate().map(\.name)
        }
        let verb = dryRun ? "pending" : "applied"
        if applied.isEmpty {
            FileHandle.standardError.write(Data("barfill migrate: schema is up to date\n".utf8))
        } else {
            for name in applied { FileHandle.standardError.write(Data("barfill migrate: \(verb) \(name)\n".utf8)) }
        }
    }
}
