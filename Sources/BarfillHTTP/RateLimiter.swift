import BarfillCore
import Foundation

/// "At most `requests` in any `window` seconds", as a provider states its limit.
public struct RateLimit: Sendable, Hashable, Codable, CustomStringConvertible {
    public var requests: Int
    public var window: Double

    public init(requests: Int, per window: Double) {
        precondition(requests > 0 && window > 0, "a rate limit needs a positive count and window")
        self.requests = requests
        self.window = window
    }

    /// Parses `5/min`, `30/s`, `100/h`, `2/10s`.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let n = Int(parts[0]), n > 0 else { return nil }
        var unit = parts[1].lowercased()
        var multiple = 1.0
        if let digits = unit.firstIndex(where: { !$0.isNumber }), digits != unit.startIndex,
           let m = Double(unit[..<digits]) {
            multiple = m
            unit = String(unit[digits...])
        }
        let seconds: Double
        switch unit {
        case "s", "sec", "second": seconds = 1
        case "m", "min", "minute": seconds = 60
        case "h", "hour": seconds = 3_600
        default: return nil
        }
        guard multiple > 0 else { return nil }
        self.init(requests: n, per: multiple * seconds)
    }

    public var description: String {
        switch window {
        case 1: "\(requests)/s"
        case 60: "\(requests)/min"
        case 3_600: "\(requests)/h"
        default: "\(requests)/\(window.formatted())s"
        }
    }

    /// The providers' published limits: Massive's free tier 5/min; Finnhub 60/min and 30/s.
    public static func defaults(for provider: ProviderName) -> [RateLimit] {
        switch provider {
        case .massive: [RateLimit(requests: 5, per: 60)]
        case .finnhub: [RateLimit(requests: 60, per: 60), RateLimit(requests: 30, per: 1)]
        }
    }
}

private extension Double {
    func formatted() -> String { self == rounded() ? String(Int(self)) : String(self) }
}

/// Limits on a whole run: how many requests, and until when (nominal Unix seconds).
public struct RequestBudget: Sendable, Hashable, Codable {
    public var maxRequests: Int?
    public var deadline: Double?

    public init(maxRequests: Int? = nil, deadline: Double? = nil) {
        self.maxRequests = maxRequests
        self.deadline = deadline
    }

    public static let unlimited = RequestBudget()
}

/// Why a run stopped early in a state it can resume from. Not a failure.
public enum StopReason: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The provider kept answering 429; resume after `resumeAfter` (nominal Unix seconds).
    case rateLimited(resumeAfter: Double)
    /// The run's request budget is spent.
    case requestBudgetExhausted
    /// The next request could not be made before the run's deadline.
    case deadlineReached
    /// The task was cancelled (a signal).
    case cancelled
    /// The budget shared with other processes (PostgreSQL) could not be reached; nothing was sent.
    case sharedBudgetUnavailable(reason: String)

    public var description: String {
        switch self {
        case let .rateLimited(at): "stopped by the provider's rate limit; resume after \(UTC.format(Int64(at.rounded(.up))))"
        case .requestBudgetExhausted: "stopped: the request budget is spent"
        case .deadlineReached: "stopped: the deadline is reached"
        case .cancelled: "stopped: cancelled"
        case let .sharedBudgetUnavailable(reason): "stopped: the shared provider budget cannot be reached (\(reason))"
        }
    }
}

/// Paces the requests made with one provider key so none exceeds the provider's limits, and
/// remembers 429s. Limits are enforced as a sliding log ("no more than N starts in any window"),
/// which keeps within any server-side accounting: fixed windows, sliding windows or token buckets
/// with N tokens per window. A request counts from the moment its answer arrived, so time spent on
/// the wire can never make two requests look further apart to the server than they were.
public actor RateLimiter {
    /// What a resumed run needs to respect a window that is still open. Codable for checkpoints;
    /// the key appears only as its fingerprint.
    public struct State: Sendable, Hashable, Codable {
        public var provider: ProviderName
        public var keyFingerprint: String
        /// Nominal Unix seconds of the requests still inside the longest window, ascending.
        public var recent: [Double]
        /// No request before this instant (after a 429).
        public var blockedUntil: Double?
    }

    /// A granted request; hand it back to `finish` when the answer arrived.
    public struct Permit: Sendable, Hashable {
        let id: Int
        let issuedAt: Double
        /// The grant's id in the shared budget, when the limiter draws from one.
        var sharedID: String? = nil
    }

    public let provider: ProviderName
    public let keyFingerprint: String
    public let limits: [RateLimit]
    public let budget: RequestBudget
    public let clock: ProviderClock
    /// The run stops (resumable) at this many 429s.
    public let maxRateLimitedResponses: Int
    /// A 429 asking to wait longer than this (nominal seconds) stops the run rather than idling through it.
    public let maxRateLimitWait: Double

    private var log: [(id: Int, at: Double)] = []
    private var nextID = 0
    private var blockedUntil: Double?
    private var blockStartedAt: Double = -.infinity
    public private(set) var requestsGranted = 0
    public private(set) var rateLimitedResponses = 0
    /// Set when the run is stopping: waits end and no permit is granted any more.
    private var stopped = false
    /// The run's request budget, shared with the other providers' limiters (`share(_:)`).
    public private(set) var allowance: RequestAllowance

    public init(provider: ProviderName, key: APIKey, limits: [RateLimit]? = nil, budget: RequestBudget = .unlimited,
                clock: ProviderClock = .system, maxRateLimitedResponses: Int = 3, maxRateLimitWait: Double = 900) {
        self.provider = provider
        self.keyFingerprint = key.fingerprint
        self.limits = limits ?? RateLimit.defaults(for: provider)
        self.budget = budget
        self.clock = clock
        self.maxRateLimitedResponses = max(1, maxRateLimitedResponses)
        self.maxRateLimitWait = maxRateLimitWait
        self.allowance = RequestAllowance(maxRequests: budget.maxRequests)
    }

    private var longestWindow: Double { limits.map(\.window).max() ?? 60 }

    /// The run is stopping (a signal): every wait for a permit ends with `.cancelled` within
    /// about a second (of the limiter's clock), and no request is granted any more. A request
    /// already sent is not affected.
    public func stopGranting() { stopped = true }

    /// Waits until a request may start without exceeding any limit, then grants it.
    /// Throws the reason to stop when the budget, the deadline or a cancellation comes first.
    public func acquire() async throws(StopReason) -> Permit {
        while true {
            if Task.isCancelled || stopped { throw .cancelled }
            if allowance.isSpent { throw .requestBudgetExhausted }
            let now = clock.now()
            let earliest = max(earliestStart(now: now), sharedNotBefore)
            if let deadline = budget.deadline, earliest > deadline { throw .deadlineReached }
            if earliest <= now, let shared {
                if let permit = try await grant(from: shared) { return permit }
                continue
            }
            if earliest <= now {
                guard allowance.take() else { throw .requestBudgetExhausted }
                let permit = Permit(id: nextID, issuedAt: now)
                nextID += 1
                requestsGranted += 1
                log.append((permit.id, now))
                return permit
            }
            // In slices, so that `stopGranting` ends a long wait (a free tier's minute) promptly.
            do { try await clock.sleep(min(earliest - now, 1)) } catch { throw .cancelled }
        }
    }

    /// Records that the answer to `permit` arrived now: the request counts from here.
    public func finish(_ permit: Permit) async {
        if let id = permit.sharedID, let shared {
            // Best effort: a row left in flight still counts (until the transfer timeout), which only errs on the safe side.
            try? await shared.answered(id)
        }
        let now = clock.now()
        if let i = log.lastIndex(where: { $0.id == permit.id }) {
            log.remove(at: i)
            let j = log.lastIndex(where: { $0.at <= now }).map { $0 + 1 } ?? 0
            log.insert((permit.id, now), at: j)
        }
    }

    /// Records a 429 for `permit`. Blocks every request until `retryAfter` seconds from now
    /// (the provider's hint), else for the provider's whole window. Returns the reason to stop
    /// when 429s keep coming. A 429 to a request that was sent before the current block began
    /// belongs to that block's window and is not counted again.
    public func rateLimited(_ permit: Permit, retryAfter: Double?) async -> StopReason? {
        let now = clock.now()
        let wait = max(retryAfter ?? longestWindow, 0)
        if permit.issuedAt >= blockStartedAt {
            rateLimitedResponses += 1
            blockStartedAt = now
        }
        blockedUntil = max(blockedUntil ?? now, now + wait)
        let resumeAfter = blockedUntil!
        if let shared {
            // Every process sharing the key waits too. Best effort: this process's own block holds regardless.
            try? await shared.block(provider: provider, keyFingerprint: keyFingerprint,
                                    seconds: (resumeAfter - clock.now()) * clock.timeScale)
        }
        if rateLimitedResponses >= maxRateLimitedResponses || wait > maxRateLimitWait { return .rateLimited(resumeAfter: resumeAfter) }
        if let deadline = budget.deadline, resumeAfter > deadline { return .deadlineReached }
        return nil
    }

    /// The earliest instant a new request may start.
    private func earliestStart(now: Double) -> Double {
        prune(now: now)
        let fits = SlidingWindow.earliestStart(counted: log.map(\.at), limits: limits.map { ($0.requests, $0.window) }, now: now)
        return max(fits, blockedUntil ?? now)
    }

    private func prune(now: Double) {
        let horizon = now - longestWindow
        log.removeAll { $0.at <= horizon }
        if let until = blockedUntil, until <= now { blockedUntil = nil }
    }

    /// Counts this limiter's grants against `allowance` (a run's one `--max-requests` budget,
    /// shared by every provider's limiter) instead of its own. Call before the first request.
    public func share(_ allowance: RequestAllowance) { self.allowance = allowance }

    /// The request granted by `permit` never left this machine (connection refused, no DNS
    /// answer): the provider did not see it, so it counts neither in its window, nor in the run's
    /// budget, nor in the key's shared budget.
    public func neverSent(_ permit: Permit) async {
        guard let i = log.lastIndex(where: { $0.id == permit.id }) else { return }
        log.remove(at: i)
        requestsGranted -= 1
        allowance.giveBack()
        if let id = permit.sharedID, let shared { try? await shared.neverSent(id) }
    }

    /// The state to save in a checkpoint.
    public var state: State {
        prune(now: clock.now())
        return State(provider: provider, keyFingerprint: keyFingerprint, recent: log.map(\.at).sorted(),
                     blockedUntil: blockedUntil)
    }

    /// Takes over a saved state when it belongs to the same provider and key; returns whether it did.
    /// Requests this limiter already holds are not added again: `work` keeps one limiter for all
    /// its requests, and each request's run restores what the previous one saved from that same
    /// limiter. (Adding them again doubled the log on every request, until a limit of a million a
    /// minute stalled a worker for most of a minute.)
    @discardableResult
    public func restore(_ saved: State) -> Bool {
        guard saved.provider == provider, saved.keyFingerprint == keyFingerprint else { return false }
        var held: [Double: Int] = [:]
        for entry in log { held[entry.at, default: 0] += 1 }
        for at in saved.recent {
            if let n = held[at], n > 0 {
                held[at] = n - 1
                continue
            }
            log.append((nextID, at))
            nextID += 1
        }
        log.sort { $0.at < $1.at }
        if let until = saved.blockedUntil { blockedUntil = max(blockedUntil ?? until, until) }
        prune(now: clock.now())
        return true
    }

    // MARK: The budget shared across processes

    /// The shared budget this limiter draws from, when `apply` has a database (see `share`).
    private var shared: (any SharedProviderBudget)?
    /// No request before this instant (nominal): the shared budget's last "wait" answer, so
    /// waiting workers do not ask it again before then.
    private var sharedNotBefore: Double = -.infinity
    /// How long an unanswered grant counts as in flight: the HTTP client's total timeout, in the
    /// provider clock's seconds (nominal, like `limits`); `grant(from:)` turns it into real seconds.
    public private(set) var inFlightSeconds: Double = HTTPTimeouts.default.total

    /// Draws every further grant from `budget` as well, so the configured limits hold for the key across
    /// every process sharing it, and a 429 seen here blocks the key for all of them.
    /// `inFlightSeconds`: the transport timeout, in the provider clock's seconds.
    public func share(_ budget: any SharedProviderBudget, inFlightSeconds: Double = HTTPTimeouts.default.total) {
        shared = budget
        self.inFlightSeconds = inFlightSeconds
    }

    /// Asks the shared budget for a grant: a permit, or nil after noting how long to wait.
    /// Other tasks enter the actor while it is asked, so the grant is counted against
    /// `--max-requests` before, and given back when the budget says wait.
    private func grant(from shared: any SharedProviderBudget) async throws(StopReason) -> Permit? {
        requestsGranted += 1
        // The shared log runs on the database server's clock, in real seconds.
        let scale = clock.timeScale
        let real = limits.map { RateLimit(requests: $0.requests, per: $0.window * scale) }
        // The hold of a grant whose answer never comes back (its process died mid-request): the
        // transport timeout in the provider clock's units, scaled like the windows. Until the answer
        // arrives the grant counts as sent now; once the hold is over it counts as sent at the hold's
        // end, for the key's whole window, because the provider may have seen it. A hold in real
        // seconds would keep a dead process's grant 120 real seconds under `--time-scale 0.01`
        // (200 provider minutes) while every window around it is scaled.
        let hold = inFlightSeconds * scale
        let answer: BudgetGrant
        do {
            answer = try await shared.grant(provider: provider, keyFingerprint: keyFingerprint, limits: real,
                                            inFlightSeconds: hold)
        } catch {
            requestsGranted -= 1
            throw .sharedBudgetUnavailable(reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        switch answer {
        case let .granted(id):
            if stopped || Task.isCancelled {
                try? await shared.neverSent(id)
                requestsGranted -= 1
                throw .cancelled
            }
            let now = clock.now()
            let permit = Permit(id: nextID, issuedAt: now, sharedID: id)
            nextID += 1
            log.append((permit.id, now))
            return permit
        case let .wait(seconds):
            requestsGranted -= 1
            sharedNotBefore = max(sharedNotBefore, clock.now() + seconds / scale)
            return nil
        }
    }

}
