import BarfillCore

/// One claimed backfill request: a series and the window to make complete.
public struct BackfillRequest: Sendable, Hashable {
    public var id: Int64
    public var symbolId: String
    public var ticker: String
    public var timeframe: Timeframe
    public var reason: String
    /// The window in Unix seconds, defaults resolved at the claim.
    public var from: Int64
    public var until: Int64
    /// Failed attempts before this one.
    public var attempts: Int
    /// The request's revision at the claim: a later widening bumps it.
    public var revision: Int
}

/// What working on a request achieved; summed into the request's result columns.
public struct RequestResult: Sendable, Hashable {
    public var providerRequests: Int
    public var barsInserted: Int
    /// Gaps the re-scan still found (nil when no re-scan ran).
    public var gapsLeft: Int?

    public init(providerRequests: Int = 0, barsInserted: Int = 0, gapsLeft: Int? = nil) {
        self.providerRequests = providerRequests
        self.barsInserted = barsInserted
        self.gapsLeft = gapsLeft
    }
}

/// The queue at a glance: open and finished requests by state and reason.
public struct QueueSummary: Sendable, Hashable {
    public struct Count: Sendable, Hashable {
        public var state: String
        public var reason: String
        public var count: Int
    }
    public var counts: [Count]
    /// When the oldest queued request was made (Unix seconds), nil when none waits.
    public var oldestQueuedAt: Int64?
    /// The database's now, for the waiting time.
    public var now: Int64
    /// Queued requests whose next attempt time has come.
    public var runnable: Int
}

/// `barfill.requests` from barfill's side: claim with a lease, renew it, and end a request
/// with its result in the statement that ends it, only while the lease is still ours.
/// Every method is one statement (so one short transaction), which a transaction pooler allows.
public struct RequestQueue {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// `barfill.request_backfill`: what the app calls.
    public func enqueue(ticker: String, timeframes: [String]? = nil, reason: String = "manual",
                        from: Int64? = nil, until: Int64? = nil) throws -> [(id: Int64, timeframe: String, state: String, created: Bool)] {
        let rows = try connection.query(PostgresQuery("request backfill",
            "SELECT request_id, timeframe, state, created FROM barfill.request_backfill($1, $2::text[], $3, $4::timestamptz, $5::timestamptz)",
            [ticker, timeframes, reason, from.map(Timestamp.init), until.map(Timestamp.init)]))
        let id = try rows.column("request_id", as: Int64.self), timeframe = try rows.column("timeframe", as: String.self)
        let state = try rows.column("state", as: String.self), created = try rows.column("created", as: Bool.self)
        return try rows.rows.map { row in
            let (id, timeframe, state, created) = try row.decode(id, timeframe, state, created)
            return (id, timeframe, state, created)
        }
    }

    /// Takes the most urgent runnable request (queued and due, or running with an expired lease)
    /// and leases it to `owner` for `leaseSeconds`. Nil when nothing is runnable.
    public func claim(owner: String, leaseSeconds: Int) throws -> BackfillRequest? {
        let rows = try connection.query(PostgresQuery("claim request", """
            WITH next AS (
                SELECT r.id FROM barfill.requests r
                WHERE r.state IN ('queued', 'running')
                  AND ((r.state = 'queued' AND r.next_attempt_at <= now())
                       OR (r.state = 'running' AND r.lease_expires_at < now()))
                ORDER BY r.priority DESC, r.created_at, r.id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            UPDATE barfill.requests r
            SET state = 'running', lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                started_at = coalesce(r.started_at, now()), updated_at = now()
            FROM next, barfill.timeframe_settings ts, public.symbols s
            WHERE r.id = next.id AND ts.timeframe = r.timeframe AND s.id = r.symbol_id
            RETURNING r.id, r.symbol_id::text AS symbol_id, s.ticker, r.timeframe, r.reason,
                floor(extract(epoch FROM coalesce(r.window_from, coalesce(r.window_until, now()) - ts.default_depth)))::bigint AS window_from,
                floor(extract(epoch FROM coalesce(r.window_until, now())))::bigint AS window_until,
                r.attempts, r.revision
            """, [owner, leaseSeconds]))
        guard rows.rowCount == 1 else { return nil }
        let row = rows[0]
        let name = try row.decode("timeframe", as: String.self)
        guard let timeframe = Timeframe(rawValue: name) else {
            throw PostgresError.unexpectedResult("request \(try row.decode("id", as: Int64.self)) has timeframe \(name), which barfill does not know")
        }
        return BackfillRequest(id: try row.decode("id"), symbolId: try row.decode("symbol_id"), ticker: try row.decode("ticker"),
                               timeframe: timeframe, reason: try row.decode("reason"), from: try row.decode("window_from"),
                               until: try row.decode("window_until"), attempts: try row.decode("attempts"),
                               revision: try row.decode("revision"))
    }

    /// Extends the lease; false when it is no longer ours (expired and taken over, or ended).
    public func renew(_ id: Int64, owner: String, leaseSeconds: Int) throws -> Bool {
        try connection.query(PostgresQuery("renew request lease", """
            UPDATE barfill.requests SET lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            """, [id, owner, leaseSeconds])).affectedRows == 1
    }

    /// The request's window is complete: `done`, or back to `queued` when a later request widened
    /// it since the claim. Returns the new state, nil when the lease was no longer ours.
    @discardableResult
    public func complete(_ request: BackfillRequest, owner: String, result: RequestResult) throws -> String? {
        try end(request.id, owner: owner, result: result, sql: """
            state = CASE WHEN revision = $6 THEN 'done' ELSE 'queued' END,
            finished_at = CASE WHEN revision = $6 THEN now() END,
            next_attempt_at = now(), last_error = NULL
            """, extra: [request.revision])
    }

    /// Stopped before the end (rate limit, budget, deadline, signal): back to `queued` with the
    /// progress kept, not before `notBefore` (Unix seconds), without counting an attempt.
    @discardableResult
    public func requeue(_ id: Int64, owner: String, result: RequestResult, notBefore: Int64? = nil) throws -> String? {
        try end(id, owner: owner, result: result, sql: """
            state = 'queued', next_attempt_at = greatest(now(), coalesce($6::timestamptz, now()))
            """, extra: [notBefore.map(Timestamp.init)])
    }

    /// A failed attempt. Transient: attempts + 1 and back to `queued` after a backoff of
    /// `retrySeconds` · 2^attempts (at most an hour), or `failed` once attempts reach the
    /// `max_attempts` setting. Permanent: `failed` at once. `error` must already be redacted.
    @discardableResult
    public func fail(_ id: Int64, owner: String, error: String, permanent: Bool, result: RequestResult,
                     retrySeconds: Double = 30) throws -> String? {
        try end(id, owner: owner, result: result, sql: """
            attempts = attempts + 1,
            state = CASE WHEN $6 OR attempts + 1 >= (SELECT s.max_attempts FROM barfill.request_settings s) THEN 'failed' ELSE 'queued' END,
            finished_at = CASE WHEN $6 OR attempts + 1 >= (SELECT s.max_attempts FROM barfill.request_settings s) THEN now() END,
            next_attempt_at = now() + least(interval '1 hour', make_interval(secs => $7 * power(2, attempts))),
            last_error = left($8, 2000)
            """, extra: [permanent, retrySeconds, error])
    }

    /// Gives back every lease `owner` holds (a worker stopping): those requests are queued again.
    @discardableResult
    public func release(owner: String) throws -> Int {
        try connection.query(PostgresQuery("release request leases", """
            UPDATE barfill.requests SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                next_attempt_at = now(), updated_at = now()
            WHERE state = 'running' AND lease_owner = $1
            """, [owner])).affectedRows
    }

    private func end(_ id: Int64, owner: String, result: RequestResult, sql assignments: String,
                     extra: [(any PostgresParameter)?]) throws -> String? {
        let rows = try connection.query(PostgresQuery("end request", """
            UPDATE barfill.requests SET
                \(assignments),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
                provider_requests = provider_requests + $3, bars_inserted = bars_inserted + $4,
                gaps_left = coalesce($5, gaps_left)
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            RETURNING state
            """, [id, owner, result.providerRequests, result.barsInserted, result.gapsLeft] + extra))
        return rows.rowCount == 1 ? try rows[0].decode("state", as: String.self) : nil
    }

    /// Counts by state and reason, the oldest queued request, and how many are runnable now.
    public func summary() throws -> QueueSummary {
        let rows = try connection.query(PostgresQuery("count requests", """
            SELECT state, reason, count(*)::bigint AS requests FROM barfill.requests GROUP BY state, reason ORDER BY state, reason
            """))
        let state = try rows.column("state", as: String.self), reason = try rows.column("reason", as: String.self)
        let count = try rows.column("requests", as: Int.self)
        let counts = try rows.rows.map { row in
            QueueSummary.Count(state: try row.decode(state), reason: try row.decode(reason), count: try row.decode(count))
        }
        let head = try connection.query(PostgresQuery("queue head", """
            SELECT floor(extract(epoch FROM min(created_at) FILTER (WHERE state = 'queued')))::bigint AS oldest_queued_at,
                   floor(extract(epoch FROM now()))::bigint AS now,
                   count(*) FILTER (WHERE (state = 'queued' AND next_attempt_at <= now())
                                       OR (state = 'running' AND lease_expires_at < now())) AS runnable
            FROM barfill.requests WHERE state IN ('queued', 'running')
            """)).onlyRow()
        return QueueSummary(counts: counts, oldestQueuedAt: try head.decode("oldest_queued_at"), now: try head.decode("now"),
                            runnable: try head.decode("runnable", as: Int?.self) ?? 0)
    }
}
