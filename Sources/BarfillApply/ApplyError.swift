import Foundation

/// What stops `apply` before or outside any one chunk. Errors of a single chunk are recorded
/// against it in the checkpoint and the report instead.
public enum ApplyError: LocalizedError, Sendable, Equatable {
    /// The plan file cannot be read (missing, permissions).
    case unreadablePlan(path: String, reason: String)
    /// With `--strict`: series whose fingerprint no longer matches the database.
    case stalePlan(series: [String])
    /// The plan was made with another calendar or another version of its rules.
    case planCalendarMismatch(plan: String, here: String)
    /// The plan's grid description is not one this barfill knows.
    case unknownGrid(String)
    /// The run report or another output file cannot be written.
    case cannotWrite(path: String, reason: String)
    /// An option value that makes no sense (`--concurrency 0`, `--deadline -5m`).
    case invalidOption(String)
    /// The database lacks barfill's tables (or a newer version of them): `barfill migrate` was not run.
    case notMigrated(pending: [String])

    public var errorDescription: String? {
        switch self {
        case let .unreadablePlan(path, reason):
            "cannot read plan \(path): \(reason)"
        case let .stalePlan(series):
            "stale plan: the database changed since the plan was made for \(series.prefix(5).joined(separator: ", "))\(series.count > 5 ? " and \(series.count - 5) more" : ""); run `barfill gaps` again, or drop --strict to apply it anyway (chunks are re-checked before each fetch)"
        case let .planCalendarMismatch(plan, here):
            "the plan was made with calendar \(plan) but this barfill has \(here); run `barfill gaps` again with this version"
        case let .unknownGrid(grid):
            "the plan's grid \"\(grid)\" is not one this barfill knows; run `barfill gaps` again"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        case let .invalidOption(what):
            what
        case let .notMigrated(pending):
            "the database lacks barfill's own tables (migrations not applied: \(pending.joined(separator: ", "))); run `barfill migrate` once with a role that may create tables (see the README, Supabase setup), then apply again"
        }
    }
}
