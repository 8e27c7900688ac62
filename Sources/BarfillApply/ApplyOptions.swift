import BarfillCore
import BarfillHTTP
import Foundation
import Synchronization

/// How one `apply` run behaves.
public struct ApplyOptions: Sendable {
    /// Chunks worked on at once; every worker shares the providers' rate limiters.
    public var concurrency = 1
    /// Update rows whose values differ from the provider's (default: only insert missing bars).
    public var overwrite = false
    /// A stale plan (series fingerprints no longer matching) is an error instead of a warning.
    public var strict = false
    /// Stop starting chunks once this many requests were made (the limiters stop mid-chunk too).
    public var maxRequests: Int?
    /// Wall-clock Unix seconds after which no chunk is started.
    public var deadline: Double?
    /// Slots that ended less than this long before the fetch are never recorded as confirmed empty:
    /// a provider may not have published the latest bars yet, and a ledger entry is forever.
    public var emptyGraceSeconds: Int64 = 86_400

    public init(concurrency: Int = 1, overwrite: Bool = false, strict: Bool = false, maxRequests: Int? = nil,
                deadline: Double? = nil, emptyGraceSeconds: Int64 = 86_400) {
        self.concurrency = concurrency
        self.overwrite = overwrite
        self.strict = strict
        self.maxRequests = maxRequests
        self.deadline = deadline
        self.emptyGraceSeconds = emptyGraceSeconds
    }
}

/// Asks a running apply to stop after the chunks in flight (SIGINT, SIGTERM, `--deadline`). Safe from any thread.
public final class ApplyControl: Sendable {
    private let requested = Mutex<ApplyStop?>(nil)
    private let handlers = Mutex<[@Sendable () -> Void]>([])
    /// The armed deadline (wall-clock Unix seconds) and the task that waits for it.
    private let deadline = Mutex<(at: Double, timer: Task<Void, Never>)?>(nil)

    public init() {}

    deinit { deadline.withLock { $0?.timer.cancel() } }

    public func requestStop(_ reason: ApplyStop = .signal) {
        let first = requested.withLock { stop in
            defer { if stop == nil { stop = reason } }
            return stop == nil
        }
        guard first else { return }
        for handler in handlers.withLock({ $0 }) { handler() }
    }

    /// Runs `handler` once a stop is requested (at once if it already was).
    public func onStop(_ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0.append(handler) }
        if stopRequested != nil { handler() }
    }

    /// At `deadline` (wall-clock Unix seconds), stops the run the way a signal does, with reason
    /// `.deadline`: waits for the rate limiter end and a running PostgreSQL statement is cancelled, so
    /// a long upsert or scan cannot overrun the deadline; its chunk stays pending for the next run.
    /// Arms once per control: a later call with another deadline is ignored; nil does nothing.
    public func stop(at deadline: Double?) {
        guard let deadline else { return }
        self.deadline.withLock { armed in
            guard armed == nil else { return }
            let timer = Task { [weak self] in
                let wait = deadline - Date().timeIntervalSince1970
                if wait > 0 {
                    do { try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000)) } catch { return }
                }
                self?.requestStop(.deadline)
            }
            armed = (deadline, timer)
        }
    }

    public var stopRequested: ApplyStop? { requested.withLock { $0 } }

    /// How many stop handlers are registered (a long `work --follow` must not gather them).
    var stopHandlerCount: Int { handlers.withLock { $0.count } }
}

/// What a run's workers are wired to: the database URL each worker opens its own connection with,
/// the provider-client factory each worker calls once (one HTTP handle each), and the rate limiters all share.
public struct WorkerWiring: Sendable {
    /// The PostgreSQL URL (nil: libpq's environment).
    public var databaseURL: String?
    /// The shared limiter of each provider the plan uses.
    public var limiters: [ProviderName: RateLimiter]
    /// Makes a provider client for one worker.
    public var makeProvider: @Sendable (ProviderName, RateLimiter) throws -> any BarProvider

    public init(databaseURL: String?, limiters: [ProviderName: RateLimiter],
                makeProvider: @escaping @Sendable (ProviderName, RateLimiter) throws -> any BarProvider) {
        self.databaseURL = databaseURL
        self.limiters = limiters
        self.makeProvider = makeProvider
    }
}
