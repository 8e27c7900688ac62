import Foundation

/// What went wrong talking to a SQLite file.
public enum SQLiteError: LocalizedError, Equatable {
    /// The file could not be opened or created (missing directory, permissions).
    case cannotOpen(path: String, reason: String)
    /// The file is not a SQLite database or its pages are damaged (SQLITE_NOTADB, SQLITE_CORRUPT).
    case corrupt(path: String, reason: String)
    /// Another process held a write lock for longer than the busy timeout.
    case busy(path: String)
    /// Any other failure, with SQLite's primary result code and message.
    case failed(path: String, code: Int32, message: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open SQLite file \(path): \(reason); check that the directory exists and is writable"
        case let .corrupt(path, reason):
            "SQLite file \(path) is damaged or not a database (\(reason)); move it aside and re-run to start a fresh one"
        case let .busy(path):
            "SQLite file \(path) stayed locked by another process; wait for it to finish and retry"
        case let .failed(path, code, message):
            "SQLite error \(code) on \(path): \(message)"
        }
    }
}
