import Dispatch

/// A PostgreSQL connection for async code: each call runs on the connection's own serial
/// dispatch queue, so libpq's blocking calls never hold a thread of Swift's cooperative pool.
///
/// The synchronous API (`PostgresConnection`, `BarStore`, `GapScanner`) stays the core: code
/// already off the pool (a worker thread, a benchmark) uses it directly.
public final class PostgresDatabase: @unchecked Sendable {
    // Safe: `connection` is only touched on `queue`, one call at a time.
    private let connection: PostgresConnection
    private let queue: DispatchQueue
    private let canceller: PostgresCanceller?

    private init(connection: PostgresConnection, queue: DispatchQueue) {
        self.connection = connection
        self.queue = queue
        self.canceller = connection.makeCanceller()
    }

    /// Cancels the statement running on the connection now, if any (from any thread): it fails
    /// with `PostgresError.isQueryCancelled` and its transaction is rolled back.
    public func cancelRunningStatement() { canceller?.cancelRunningStatement() }

    /// Opens a connection (nil: libpq's defaults from the environment) on a new queue.
    public static func connect(url: String?, label: String = "barfill.postgres") async throws -> PostgresDatabase {
        let queue = DispatchQueue(label: label)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: PostgresDatabase(connection: try PostgresConnection(url: url), queue: queue)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `body` with the connection on the connection's queue.
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let connection = UncheckedBox(connection)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try body(connection.value)) } catch { continuation.resume(throwing: error) }
            }
        }
    }
}

private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
