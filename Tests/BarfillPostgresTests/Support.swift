import BarfillTestSupport
import Foundation
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs a suite only when scripts/with-postgres (or CI) provides a server.
    static var requiresPostgres: Self {
        .enabled(if: TestDatabase.runsPostgresTests, Comment(rawValue: TestDatabase.unavailableReason))
    }

    /// Runs a test only when a transaction-mode pgbouncer is in front of the test server.
    static var requiresPooler: Self {
        .enabled(if: TestDatabase.runsPoolerTests,
                 "BARFILL_TEST_POOLER_URL is not set: scripts/with-postgres starts pgbouncer when it is installed")
    }
}

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
