import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Foundation
import Synchronization

/// How a `barfill work` worker behaves.
public struct WorkOptions: Sendable {
    /// Passed to each request's apply run; `maxRequests` and `deadline` hold for the whole worker.
    public var apply: ApplyOptions
    /// Who holds the leases: hostname, pid and a random part, so two workers never share one.
    public var owner: String
    /// How long a claim lasts without renewal; renewed every third of it while working.
    public var leaseSeconds: Int
    /// First retry delay after a transient failure; doubled per attempt, at most an hour.
    public var retrySeconds: Double
    /// Stop claiming after this many requests (nil: until none is runnable).
    public var maxClaims: Int?

    public init(apply: ApplyOptions = ApplyOptions(), owner: String = WorkOptions.defaultOwner(),
                leaseSeconds: Int = 300, retrySeconds: Double = 30, maxClaims: Int? = nil) {
        self.apply = apply
        self.owner = owner
        self.leaseSeconds = leaseSeconds
        self.retrySeconds = retrySeconds
        self.maxClaims = maxClaims
    }

    public static func defaultOwner() -> String {
        let host = ProcessInfo.processInfo.hostName
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host.prefix(64)):\(getpid()):\(random)"
    }
}

/// What happened to one request in this worker.
public struct RequestOutcome: Sendable, Hashable {
    public enum End: String, Sendable, Hashable {
        /// Its window is complete (`done`).
        case done
        /// Widened while it ran: queued again for the rest.
        case widened
        /// Stopped (rate limit, budget, deadline, signal): queued again, progress kept.
        case requeued
        /// A transient failure: queued again after a backoff.
        case retrying
        /// Failed for good (permanently, or out of attempts).
        case failed
        /// The lease expired and another worker took the request over.
        case leaseLost
    }

    public var request: BackfillRequest
    public var end: End
    public var result: RequestResult
    public var message: String?
    /// Why the apply run stopped early (the worker stops too).
    public var stop: ApplyStop?
}

/// A drain of the queue by one worker.
public struct WorkReport: Sendable {
    public var outcomes: [RequestOutcome]
    /// Why the worker stopped before the queue was empty, if it did.
    public var stop: ApplyStop?
    public var failed: [RequestOutcome] { outcomes.filter { $0.end == .failed } }
}

/// Drains `barfill.requests`: claims the most urgent runnable request, scans exactly its series
/// over its window, plans, applies with the checkpoint machinery, re-scans so `backfill_status`
/// records what is verified, and ends the request with its result, all under a renewed lease.
public final class RequestWorker: Sendable {
    private let connections: WorkerWiring
    private let checkpoint: CheckpointStore
    private let options: WorkOptions
    private let control: ApplyControl
    private let onEvent: @Sendable (WorkEvent) -> Void
    /// The queue and lease connections, opened by the first drain and kept across polls; a
    /// connection lost between polls is reopened by `WorkerDatabase` on its next statement.
    private let links = Mutex<QueueLinks?>(nil)
    /// Carries the run's stop to the request being worked on.
    private let relay = StopRelay()

    public init(connections: WorkerWiring, checkpoint: CheckpointStore, options: WorkOptions,
                control: ApplyControl = ApplyControl(), onEvent: @escaping @Sendable (WorkEvent) -> Void = { _ in }) {
        self.connections = connections
        self.checkpoint = checkpoint
        self.options = options
        self.control = control
        self.onEvent = onEvent
        // The worker's one stop handler for its whole life: each request runs under a control of its
        // own (its apply run registers handlers there, dropped with it), which this handler stops.
        control.onStop { [relay, weak control] in relay.stop(control?.stopRequested ?? .signal) }
    }

    /// Works on runnable requests until none is left, the budget or deadline is spent, or a stop is asked.
    public func drain() async throws -> WorkReport {
        control.stop(at: options.apply.deadline)
        let (database, leases) = try await openLinks()
        let owner = options.owner
        let leaseSeconds = options.leaseSeconds
        var outcomes: [RequestOutcome] = []
        var spent = 0
        var stop: ApplyStop?
        while true {
            let requested = control.stopRequested
            if let requested, requested != .deadline { stop = requested; break }
            // The deadline (passed, or its stop requested): a stop only when work is left.
            if let deadline = options.apply.deadline, requested == .deadline || Date().timeIntervalSince1970 >= deadline {
                if try await database.run({ try RequestQueue(connection: $0).summary().runnable }) > 0 { stop = .deadline }
                break
            }
            if let max = options.apply.maxRequests, spent >= max {
                if try await database.run({ try RequestQueue(connection: $0).summary().runnable }) > 0 { stop = .requestBudget }
                break
            }
            if let maxClaims = options.maxClaims, outcomes.count >= maxClaims { break }
            guard let request = try await database.run({ try RequestQueue(connection: $0).claim(owner: owner, leaseSeconds: leaseSeconds) })
            else { break }
            onEvent(.claimed(request))
            let outcome = try await work(request, database: database, leases: leases, spentBefore: spent)
            spent += outcome.result.providerRequests
            outcomes.append(outcome)
            onEvent(.ended(outcome))
            if let reason = outcome.stop { stop = reason; break }
        }
        // Whatever is still ours goes back (a stop between claim and end never leaves a lease behind).
        _ = try? await database.run { try RequestQueue(connection: $0).release(owner: owner) }
        return WorkReport(outcomes: outcomes, stop: stop)
    }

    /// The kept connections, opened on first use. A database that cannot be reached then is an
    /// error of this drain (the next one tries again).
    private func openLinks() async throws -> (queue: WorkerDatabase, leases: WorkerDatabase) {
        if let open = links.withLock({ $0 }) { return (open.queue, open.leases) }
        let queue = try await WorkerDatabase.connect(url: connections.databaseURL, label: "barfill.work.queue")
        let leases = try await WorkerDatabase.connect(url: connections.databaseURL, label: "barfill.work.lease")
        links.withLock { $0 = QueueLinks(queue: queue, leases: leases) }
        return (queue, leases)
    }

    /// One request from claim to end.
    private func work(_ request: BackfillRequest, database: WorkerDatabase, leases: WorkerDatabase, spentBefore: Int) async throws -> RequestOutcome {
        let owner = options.owner
        // This request's own control: its apply run's stop handlers live and die with it.
        let control = ApplyControl()
        relay.begin(control)
        defer { relay.end() }
        let leaseSeconds = options.leaseSeconds
        // Renews the lease while the request is worked on. A lost lease (renewals failing past its
        // expiry) does not stop the run: a stop would also stop the shared rate limiters for every
        // later request. The run finishes, the precheck keeps the new holder from writing twice,
        // and the end finds the lease gone.
        let lost = LeaseFlag()
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(1, leaseSeconds)) * 1_000_000_000 / 3)
                if Task.isCancelled { break }
                let ours = (try? await leases.run { try RequestQueue(connection: $0).renew(request.id, owner: owner, leaseSeconds: leaseSeconds) }) ?? true
                if !ours {
                    lost.set()
                    break
                }
            }
        }
        defer { renewal.cancel() }

        var result = RequestResult()
        let end: (RequestOutcome.End, String?, ApplyStop?)
        do {
            end = try await fill(request, database: database, control: control, spentBefore: spentBefore, result: &result)
        } catch let error as PostgresError where error.isQueryCancelled && control.stopRequested != nil {
            // A stop (a signal or the deadline) cancelled a scan: back to the queue, progress kept.
            end = Self.stopped(control)
        } catch {
            let message = Redaction.redact(String(describing: error))
            let state = try await database.run { [result] in
                try RequestQueue(connection: $0).fail(request.id, owner: owner, error: message, permanent: false,
                                                      result: result, retrySeconds: self.options.retrySeconds)
            }
            return RequestOutcome(request: request, end: state == nil ? .leaseLost : (state == "failed" ? .failed : .retrying),
                                  result: result, message: message)
        }
        renewal.cancel()
        if lost.isSet { return RequestOutcome(request: request, end: .leaseLost, result: result, message: nil) }

        let state: String?
        switch end.0 {
        case .done, .widened:
            state = try await database.run { [result] in try RequestQueue(connection: $0).complete(request, owner: owner, result: result) }
        case .requeued:
            var notBefore: Int64?
            if case let .rateLimited(_, at)? = end.2 { notBefore = at }
            state = try await database.run { [result, notBefore] in try RequestQueue(connection: $0).requeue(request.id, owner: owner, result: result, notBefore: notBefore) }
        case .retrying, .failed:
            let permanent = end.0 == .failed
            let message = end.1 ?? "failed"
            state = try await database.run { [result] in
                try RequestQueue(connection: $0).fail(request.id, owner: owner, error: message, permanent: permanent,
                                                      result: result, retrySeconds: self.options.retrySeconds)
            }
        case .leaseLost:
            state = nil
        }
        let final: RequestOutcome.End
        switch state {
        case nil: final = .leaseLost
        case "done": final = .done
        case "failed": final = .failed
        case "queued": final = end.0 == .done ? .widened : end.0
        default: final = end.0
        }
        return RequestOutcome(request: request, end: final, result: result, message: end.1, stop: end.2)
    }

    /// Scan, plan, apply, re-scan. Returns how the request should end.
    private func fill(_ request: BackfillRequest, database: WorkerDatabase, control: ApplyControl, spentBefore: Int,
                      result: inout RequestResult) async throws -> (RequestOutcome.End, String?, ApplyStop?) {
        let scanRequest = ScanRequest(symbols: [request.ticker], timeframes: [request.timeframe],
                                      from: request.from, until: request.until, full: true)
        guard let (scan, source) = try await scanning(database, control: control, { connection in
            (try GapScanner(connection: connection).scan(scanRequest),
             Plan.Source(host: connection.host, database: connection.databaseName))
        }) else { return Self.stopped(control) }
        let plan = try Planner().plan(scans: scan.series, window: Plan.Window(from: request.from, until: request.until),
                                      source: source, createdAt: Int64(Date().timeIntervalSince1970))
        if plan.chunks.isEmpty {
            result.gapsLeft = 0
            return (.done, nil, nil)
        }
        let missing = Set(plan.chunks.map(\.provider)).subtracting(connections.limiters.keys)
        if let provider = missing.sorted().first {
            return (.failed, "no API key for \(provider.rawValue): set \(provider == .massive ? "MASSIVE_API_KEY" : "FINNHUB_API_KEY") for the worker", nil)
        }
        var applyOptions = options.apply
        if let max = applyOptions.maxRequests { applyOptions.maxRequests = Swift.max(1, max - spentBefore) }
        let runner = try ApplyRunner(plan: plan, checkpoint: checkpoint, connections: connections,
                                     options: applyOptions, control: control)
        let report = try await runner.run()
        result.providerRequests = report.totals.requests
        result.barsInserted = report.totals.inserted
        switch report.outcome {
        case .complete:
            break
        case let .stopped(stop):
            return (.requeued, stop.description, stop)
        case .failed:
            let permanent = report.chunks.first { $0.status == .failed }
            let first = permanent ?? report.chunks.first { $0.status == .pending }
            let message = "chunk \(first?.id ?? "?") \(UTC.format(first?.from ?? request.from)) … \(UTC.format(first?.to ?? request.until)): \(first?.message ?? "failed")"
            return (permanent != nil ? .failed : .retrying, message, nil)
        }
        // The re-scan records in backfill_status what is now verified.
        guard let after = try await scanning(database, control: control, { try GapScanner(connection: $0).scan(scanRequest) })
        else { return Self.stopped(control) }
        result.gapsLeft = after.series.reduce(0) { $0 + $1.gaps.count }
        return (.done, nil, nil)
    }
}

extension RequestWorker {
    /// Runs a scan on the queue connection so that a stop (a signal or the deadline) cancels it
    /// rather than waiting for it; nil when the stop came before the scan began.
    private func scanning<T: Sendable>(_ database: WorkerDatabase, control: ApplyControl,
                                       _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T? {
        relay.watch(database)
        defer { relay.watch(nil) }
        // After `watch`: a stop from here on cancels the statement, one before it is seen here.
        if control.stopRequested != nil { return nil }
        return try await database.run(body)
    }

    /// The request goes back to the queue with its progress, for the stop asked of the run.
    private static func stopped(_ control: ApplyControl) -> (RequestOutcome.End, String?, ApplyStop?) {
        let stop = control.stopRequested ?? .signal
        return (.requeued, stop.description, stop)
    }
}

/// What a worker reports as it goes (for progress lines).
public enum WorkEvent: Sendable {
    case claimed(BackfillRequest)
    case ended(RequestOutcome)
}

/// The two connections a worker keeps across polls: the queue's (claims, scans, ends) and the
/// lease renewals' (so a renewal never waits behind a long scan).
private struct QueueLinks: Sendable {
    let queue: WorkerDatabase
    let leases: WorkerDatabase
}

/// Carries the run's stop to the request in flight and to a statement running on the queue connection.
private final class StopRelay: Sendable {
    private let current = Mutex<ApplyControl?>(nil)
    private let queue = Mutex<WorkerDatabase?>(nil)
    private let requested = Mutex<ApplyStop?>(nil)

    /// The connection whose running statement a stop cancels (nil: none now).
    func watch(_ database: WorkerDatabase?) { queue.withLock { $0 = database } }

    /// A request begins under `control`; a stop asked before stops it at once.
    func begin(_ control: ApplyControl) {
        current.withLock { $0 = control }
        if let stop = requested.withLock({ $0 }) { control.requestStop(stop) }
    }

    func end() { current.withLock { $0 = nil } }

    func stop(_ reason: ApplyStop) {
        requested.withLock { if $0 == nil { $0 = reason } }
        current.withLock { $0 }?.requestStop(reason)
        queue.withLock { $0 }?.cancel()
    }
}

private final class LeaseFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
