import ArgumentParser
import BarfillPostgres
import Foundation

/// `--database URL`, else `DATABASE_URL`, else libpq's own `PG*` variables and service files.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database"),
            help: ArgumentHelp("PostgreSQL connection URL (default: $DATABASE_URL, else libpq's PG* variables and service files).",
                               valueName: "url"))
    var url: String?

    /// The connection string to hand to libpq; nil lets libpq read its environment.
    var resolvedURL: String? {
        if let url, !url.isEmpty { return url }
        if let env = ProcessInfo.processInfo.environment["DATABASE_URL"], !env.isEmpty { return env }
        return nil
    }

    /// Opens a blocking connection (for code that runs off the cooperative pool).
    func connect() throws -> PostgresConnection { try PostgresConnection(url: resolvedURL) }

    /// Opens a connection on its own queue, for async callers.
    func database() async throws -> PostgresDatabase { try await PostgresDatabase.connect(url: resolvedURL) }
}
