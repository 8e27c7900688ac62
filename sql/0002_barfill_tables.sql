-- 0002: barfill's own tables, in their own schema so they never collide with the app's.
--
-- Timeframes are stored as text, not as the app's `timeframe` enum, so series the enum does
-- not list yet (m1, m5, m30, mn1) work once the app's schema has them.

CREATE SCHEMA IF NOT EXISTS barfill;

-- Which migrations have run; `barfill migrate` reads and writes it.
CREATE TABLE IF NOT EXISTS barfill.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Per series: what the last scan or backfill saw.
-- verified_through: every expected slot in [verified_from, verified_through) under `grid` is
-- present or confirmed empty, so an incremental scan can start shortly before it.
CREATE TABLE IF NOT EXISTS barfill.backfill_status (
    symbol_id        uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
    timeframe        text NOT NULL,
    oldest_ts        timestamptz,
    newest_ts        timestamptz,
    verified_from    timestamptz,
    verified_through timestamptz,
    grid             text,
    last_run_at      timestamptz,
    last_result      text,
    PRIMARY KEY (symbol_id, timeframe)
);

-- Ranges a provider answered with no bar (illiquid or halted slots): not planned again.
-- [from_ts, to_ts) is half-open, like a gap.
CREATE TABLE IF NOT EXISTS barfill.empty_ranges (
    symbol_id   uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
    timeframe   text NOT NULL,
    from_ts     timestamptz NOT NULL,
    to_ts       timestamptz NOT NULL,
    provider    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_ts < to_ts),
    PRIMARY KEY (symbol_id, timeframe, from_ts, to_ts, provider)
);
