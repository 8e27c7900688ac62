import BarfillSQLite

extension CheckpointStore {
    /// Opens the checkpoint at `path` as `init(path:exclusive:)` does, on a dispatch thread: its
    /// integrity check reads every page of the file (tens of megabytes for a 100,000-chunk plan),
    /// which must not hold one of the cooperative pool's few threads.
    public static func open(path: String, exclusive: Bool = true) async throws -> CheckpointStore {
        try await offPool { try CheckpointStore(path: path, exclusive: exclusive) }
    }
}
