import Dispatch

/// Runs blocking work (SQLite with fsync) on a dispatch thread rather than the cooperative pool.
/// The work (and what it captured) is released before the caller resumes, so an object it used,
/// such as the checkpoint and its lock, is gone when the last reference the caller dropped is.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let job = BlockingJob(body)
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: job.run())
        }
    }
}

private final class BlockingJob<T: Sendable>: @unchecked Sendable {
    // Touched only by the one dispatch block that runs the job.
    private var body: (@Sendable () throws -> T)?

    init(_ body: @escaping @Sendable () throws -> T) { self.body = body }

    func run() -> Result<T, any Error> {
        guard let body else { preconditionFailure("a blocking job runs once") }
        self.body = nil
        return Result { try body() }
    }
}
