-- 0004: one provider budget shared by every process that spends a key (issue 13).
--
-- A sliding log per provider and key fingerprint (never the key). A grant is committed before
-- its request is sent, so a process killed mid-request still has its request counted (the
-- write-ahead record of issue 9). Times come from the server's clock so machines agree; windows
-- are real seconds. Every function is one statement, one short transaction: no session state,
-- no advisory locks, no LISTEN, so a transaction-mode pooler works.
--
-- Each function commits asynchronously (synchronous_commit off for its own transaction only): the
-- commit is visible to every other session at once, which is what a killed barfill process needs;
-- only a crash of PostgreSQL itself could lose the last fraction of a second of grants. Waiting for
-- a WAL flush twice per provider request would make the budget the bottleneck at paid-tier rates.

CREATE SCHEMA IF NOT EXISTS barfill;

-- One row per provider and key: the lock every grant takes, and the block after a 429.
CREATE TABLE IF NOT EXISTS barfill.provider_keys (
    provider        text NOT NULL,
    key_fingerprint text NOT NULL,
    -- No request before this instant (a 429 seen by any process).
    blocked_until   timestamptz,
    -- The longest window any process asked about: log rows older than it are pruned. It only
    -- grows; processes sharing a key are meant to share its --rate.
    retention       interval NOT NULL DEFAULT interval '0',
    PRIMARY KEY (provider, key_fingerprint)
);

-- The sliding log: one row per granted request.
-- counted_at is the instant the request counts from: while it is in flight, the latest instant
-- its answer can arrive (the grant plus the client's transfer timeout), read as "now"; once the
-- answer arrived, the arrival. A request that never left is deleted.
CREATE TABLE IF NOT EXISTS barfill.provider_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider        text NOT NULL,
    key_fingerprint text NOT NULL,
    granted_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    counted_at      timestamptz NOT NULL,
    FOREIGN KEY (provider, key_fingerprint) REFERENCES barfill.provider_keys ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS provider_requests_counted
    ON barfill.provider_requests (provider, key_fingerprint, counted_at DESC);

-- Grants one request if it fits every limit (limits[i] requests in any windows[i] seconds) and
-- the key is not blocked: returns its id and 0. Otherwise returns a NULL id and the seconds until
-- a request may fit (a lower bound: ask again then). in_flight_seconds: how long an unanswered
-- grant may stay in flight (the client's transfer timeout).
CREATE OR REPLACE FUNCTION barfill.grant_provider_request(
    p_provider text, p_key_fingerprint text, p_limits integer[], p_windows double precision[],
    p_in_flight_seconds double precision)
RETURNS TABLE (request_id uuid, wait_seconds double precision)
LANGUAGE plpgsql AS $$
DECLARE
    key_row    barfill.provider_keys%ROWTYPE;
    t          timestamptz;
    earliest   timestamptz;
    longest    interval;
    window_len interval;
    leaving    timestamptz;
    granted    uuid;
BEGIN
    IF p_limits IS NULL OR cardinality(p_limits) = 0 OR cardinality(p_limits) <> cardinality(p_windows) THEN
        RAISE EXCEPTION 'grant_provider_request: limits and windows must be non-empty and of equal length';
    END IF;
    SELECT * INTO key_row FROM barfill.provider_keys
        WHERE provider = p_provider AND key_fingerprint = p_key_fingerprint FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO barfill.provider_keys (provider, key_fingerprint) VALUES (p_provider, p_key_fingerprint)
            ON CONFLICT DO NOTHING;
        SELECT * INTO key_row FROM barfill.provider_keys
            WHERE provider = p_provider AND key_fingerprint = p_key_fingerprint FOR UPDATE;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    -- Read after the lock: now() would be the instant the statement began, before any wait for it.
    t := clock_timestamp();

    SELECT max(w) * interval '1 second' INTO longest FROM unnest(p_windows) w;
    IF longest > key_row.retention THEN
        UPDATE barfill.provider_keys SET retention = longest
            WHERE provider = p_provider AND key_fingerprint = p_key_fingerprint;
        key_row.retention := longest;
    END IF;
    DELETE FROM barfill.provider_requests
        WHERE provider = p_provider AND key_fingerprint = p_key_fingerprint AND counted_at <= t - key_row.retention;

    earliest := t;
    IF key_row.blocked_until > earliest THEN earliest := key_row.blocked_until; END IF;
    FOR i IN 1 .. cardinality(p_limits) LOOP
        window_len := p_windows[i] * interval '1 second';
        -- The request that must leave the window before another may enter: the limit-th most
        -- recent. One in flight counts as now (its answer is still to come).
        SELECT least(r.counted_at, t) INTO leaving FROM barfill.provider_requests r
            WHERE r.provider = p_provider AND r.key_fingerprint = p_key_fingerprint AND r.counted_at > t - window_len
            ORDER BY r.counted_at DESC OFFSET p_limits[i] - 1 LIMIT 1;
        IF FOUND AND leaving + window_len > earliest THEN earliest := leaving + window_len; END IF;
    END LOOP;

    IF earliest > t THEN
        RETURN QUERY SELECT NULL::uuid, extract(epoch FROM earliest - t)::double precision;
        RETURN;
    END IF;
    INSERT INTO barfill.provider_requests (provider, key_fingerprint, granted_at, counted_at)
        VALUES (p_provider, p_key_fingerprint, t, t + greatest(p_in_flight_seconds, 0) * interval '1 second')
        RETURNING id INTO granted;
    RETURN QUERY SELECT granted, 0::double precision;
END
$$;

-- The answer to a granted request arrived: it counts from now. One reading of the clock for both
-- columns (two clock_timestamp() calls can fall a microsecond apart).
CREATE OR REPLACE FUNCTION barfill.provider_request_answered(p_request_id uuid)
RETURNS void LANGUAGE sql AS $$
    SELECT set_config('synchronous_commit', 'off', true);
    UPDATE barfill.provider_requests SET answered_at = arrival.t, counted_at = arrival.t
    FROM (SELECT clock_timestamp() AS t) arrival
    WHERE id = p_request_id AND answered_at IS NULL;
$$;

-- A granted request never left (connection refused): it does not count.
CREATE OR REPLACE FUNCTION barfill.provider_request_never_sent(p_request_id uuid)
RETURNS void LANGUAGE sql AS $$
    SELECT set_config('synchronous_commit', 'off', true);
    DELETE FROM barfill.provider_requests WHERE id = p_request_id AND answered_at IS NULL;
$$;

-- A 429: no process grants a request with this key for the next `p_seconds`.
CREATE OR REPLACE FUNCTION barfill.block_provider_key(p_provider text, p_key_fingerprint text, p_seconds double precision)
RETURNS timestamptz LANGUAGE sql AS $$
    SELECT set_config('synchronous_commit', 'off', true);
    INSERT INTO barfill.provider_keys AS k (provider, key_fingerprint, blocked_until)
        VALUES (p_provider, p_key_fingerprint, clock_timestamp() + greatest(p_seconds, 0) * interval '1 second')
    ON CONFLICT (provider, key_fingerprint) DO UPDATE
        SET blocked_until = greatest(k.blocked_until, EXCLUDED.blocked_until)
    RETURNING blocked_until;
$$;
