import BarfillCore
import BarfillHTTP
import BarfillPostgres
import Dispatch
import Foundation

/// The provider budget every `apply` process shares, in PostgreSQL (migration 0004): one
/// connection per process, opened on first use and opened again once after it broke.
public final class PostgresProviderBudget: SharedProviderBudget, @unchecked Sendable {
    // Safe: `connection` is only touched on `queue`, one call at a time.
    private let url: String?
    private let queue = DispatchQueue(label: "barfill.provider-budget")
    private var connection: PostgresConnection?

    /// `url`: the PostgreSQL URL (nil: libpq's environment). Nothing connects until the first grant.
    public init(databaseURL url: String?) { self.url = url }

    public func grant(provider: ProviderName, keyFingerprint: String, limits: [RateLimit],
                      inFlightSeconds: Double) async throws -> BudgetGrant {
        let windows = limits.map { (requests: $0.requests, seconds: $0.window) }
        return try await run { store in
            try store.grant(provider: provider.rawValue, keyFingerprint: keyFingerprint, limits: windows,
                            inFlightSeconds: inFlightSeconds)
        }
    }

    public func answered(_ id: String) async throws { try await run { try $0.answered(id) } }

    public func neverSent(_ id: String) async throws { try await run { try $0.neverSent(id) } }

    public func block(provider: ProviderName, keyFingerprint: String, seconds: Double) async throws {
        try await run { try $0.block(provider: provider.rawValue, keyFingerprint: keyFingerprint, seconds: seconds) }
    }

    /// Runs `body` on the budget's queue, connecting first when needed. A connection that broke
    /// (a pooler or server restart) is replaced once; a grant whose commit was lost with it stays
    /// in the log as in flight, which only counts one request too many, never one too few.
    private func run<T: Sendable>(_ body: @escaping @Sendable (ProviderBudgetStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.onQueue(body) })
            }
        }
    }

    private func onQueue<T>(_ body: (ProviderBudgetStore) throws -> T) throws -> T {
        for attempt in 1...2 {
            do {
                let connection = try self.connection ?? PostgresConnection(url: url)
                self.connection = connection
                return try body(ProviderBudgetStore(connection: connection))
            } catch let error as PostgresError {
                switch error {
                case .connectionLost, .cannotConnect:
                    self.connection = nil
                    if attempt == 2 { throw error }
                    Thread.sleep(forTimeInterval: 0.2)
                default:
                    throw error
                }
            }
        }
        preconditionFailure("the loop returns or throws")
    }
}
