import CLibPQ
import Synchronization

/// Cancels whatever statement its connection is running, from any thread (libpq's
/// `PQgetCancel`/`PQcancel`): a stop does not wait for a long statement to end.
public final class PostgresCanceller: @unchecked Sendable {
    // Safe: the PGcancel object is only read by PQcancel, and calls are serialised by `lock` anyway.
    private let cancel: OpaquePointer
    private let lock = Mutex(())

    init?(_ connection: OpaquePointer) {
        guard let cancel = PQgetCancel(connection) else { return nil }
        self.cancel = cancel
    }

    deinit { PQfreeCancel(cancel) }

    /// Asks the server to cancel the running statement; the statement then fails with SQLSTATE
    /// 57014 (`PostgresError.isQueryCancelled`). Does nothing when no statement is running.
    /// Returns whether the request was delivered.
    @discardableResult
    public func cancelRunningStatement() -> Bool {
        lock.withLock { _ in
            var reason = [CChar](repeating: 0, count: 256)
            return PQcancel(cancel, &reason, Int32(reason.count)) == 1
        }
    }
}
