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

    public init(connections: WorkerWiring, checkpoint: CheckpointStore, options: WorkOptions,
                control: ApplyControl = ApplyControl(), onEvent: @escaping @Sendable (WorkEvent) -> Void = { _ in }) {
        self.connections = connections
        self.checkpoint = checkpoint
        self.options = options
        self.control = control
        self.onEvent = onEvent
    }

    /// Works on runnable requests until none is left, the budget or deadline is spent, or a stop is asked.
    public func drain() async throws -> WorkReport {
        let database = try await PostgresDatabase.connect(url: connections.databaseURL, label: "barfill.work.queue")
        let leases = try await PostgresDatabase.connect(url: connections.databaseURL, label: "barfill.work.lease")
        let owner = options.owner
        let leaseSeconds = options.leaseSeconds
        var outcomes: [RequestOutcome] = []
        var spent = 0
        var stop: ApplyStop?
        while true {
            if let requested = control.stopRequested { stop = requested; break }
            if let deadline = options.apply.deadline, Date().timeIntervalSince1970 >= deadline {
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

    /// One request from claim to end.
    private func work(_ request: BackfillRequest, database: PostgresDatabase, leases: PostgresDatabase, spentBefore: Int) async throws -> RequestOutcome {
        let owner = options.owner
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
    private func fill(_ request: BackfillRequest, database: PostgresDatabase, control: ApplyControl, spentBefore: Int,
                      result: inout RequestResult) async throws -> (RequestOutcome.End, String?, ApplyStop?) {
        let scanRequest = ScanRequest(symbols: [request.ticker], timeframes: [request.timeframe],
                                      from: request.from, until: request.until, full: true)
        let (scan, source) = try await database.run { connection in
            (try GapScanner(connection: connection).scan(scanRequest),
             Plan.Source(host: connection.host, database: connection.databaseName))
        }
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
        let after = try await database.run { try GapScanner(connection: $0).scan(scanRequest) }
        result.gapsLeft = after.series.reduce(0) { $0 + $1.gaps.count }
        return (.done, nil, nil)
    }
}

/// What a worker reports as it goes (for progress lines).
public enum WorkEvent: Sendable {
    case claimed(BackfillRequest)
    case ended(RequestOutcome)
}

private final class LeaseFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
