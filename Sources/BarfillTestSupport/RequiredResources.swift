import Foundation

/// Whether a missing test resource (PostgreSQL, pgbouncer, python's jsonschema) skips a test or fails it.
public enum TestRun {
    /// True under CI (`CI` set and not "false"/"0") and in `make test` (`BARFILL_REQUIRE_ALL=1`):
    /// a skipped test would still count as passed, so there every test must run.
    public static var requiresEverything: Bool { requiresEverything(ProcessInfo.processInfo.environment) }

    public static func requiresEverything(_ environment: [String: String]) -> Bool {
        if environment["BARFILL_REQUIRE_ALL"] == "1" { return true }
        guard let ci = environment["CI"], !ci.isEmpty else { return false }
        return !["false", "0"].contains(ci.lowercased())
    }

    /// Why a test that needs a missing resource failed instead of skipping.
    public static let whyNotSkipped = "a skip fails the run under CI and in `make test` (BARFILL_REQUIRE_ALL=1)"
}
