import Foundation

/// What can go wrong with the checkpoint file that makes `apply` resumable.
public enum CheckpointError: LocalizedError, Equatable {
    /// The file or its directory cannot be opened or created.
    case cannotOpen(path: String, reason: String)
    /// Another `barfill apply` holds the checkpoint's lock.
    case locked(path: String)
    /// The file is not a SQLite database, its pages are damaged, or its tables are not barfill's.
    case corrupt(path: String, reason: String)
    /// The file was written by a newer barfill with a schema this one does not know.
    case newerSchema(path: String, version: Int, supported: Int)
    /// A read or write failed for another reason (disk full, I/O error).
    case storage(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open checkpoint \(path): \(reason); check the directory exists and is writable, or pass --checkpoint PATH"
        case let .locked(path):
            "checkpoint \(path) is in use by another barfill apply; wait for it to finish, or pass a different --checkpoint"
        case let .corrupt(path, reason):
            "checkpoint \(path) is damaged (\(reason)); move it aside and re-run: apply re-checks every chunk against the database, so nothing is lost"
        case let .newerSchema(path, version, supported):
            "checkpoint \(path) has schema version \(version) but this barfill knows up to \(supported); use a newer barfill or another --checkpoint"
        case let .storage(path, reason):
            "cannot write checkpoint \(path): \(reason)"
        }
    }

    init(_ error: SQLiteError, path: String) {
        switch error {
        case let .corrupt(_, reason): self = .corrupt(path: path, reason: reason)
        case let .cannotOpen(_, reason): self = .cannotOpen(path: path, reason: reason)
        case .busy: self = .locked(path: path)
        case let .failed(_, _, message): self = .storage(path: path, reason: message)
        }
    }
}
