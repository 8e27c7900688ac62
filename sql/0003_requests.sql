-- 0003: backfill on demand. A queue of requests for series (symbol, timeframe), filled by the
-- app (watchlist adds, charts that lack bars) and drained by `barfill work`.
--
-- Bad input to the functions raises SQLSTATE 22023 (invalid_parameter_value) with a message
-- saying what was wrong; nothing is written. The functions are SECURITY DEFINER with a fixed
-- search_path and schema-qualified names, and are not executable by PUBLIC: grant them to the
-- app's server-side role.

-- Settings for every request: edit with SQL (UPDATE barfill.request_settings SET ...).
CREATE TABLE IF NOT EXISTS barfill.request_settings (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- What a watchlist add (and a request without timeframes) enqueues.
    default_timeframes text[] NOT NULL DEFAULT '{h1,d1}',
    -- After this many failed attempts a request is `failed`.
    max_attempts       integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1)
);
INSERT INTO barfill.request_settings DEFAULT VALUES ON CONFLICT DO NOTHING;

-- Per timeframe: how far back a request without a start goes, and how long after a slot ends
-- its bar may still be unpublished (chart_readiness does not wait for those).
CREATE TABLE IF NOT EXISTS barfill.timeframe_settings (
    timeframe         text PRIMARY KEY,
    default_depth     interval NOT NULL CHECK (default_depth > interval '0'),
    publication_delay interval NOT NULL CHECK (publication_delay >= interval '0')
);
INSERT INTO barfill.timeframe_settings (timeframe, default_depth, publication_delay) VALUES
    ('m1',  interval '2 years', interval '1 hour'),
    ('m5',  interval '2 years', interval '1 hour'),
    ('m15', interval '2 years', interval '1 hour'),
    ('m30', interval '2 years', interval '2 hours'),
    ('h1',  interval '2 years', interval '2 hours'),
    ('h4',  interval '2 years', interval '5 hours'),
    ('d1',  interval '2 years', interval '1 day'),
    ('w1',  interval '2 years', interval '7 days'),
    ('mn1', interval '2 years', interval '31 days')
ON CONFLICT (timeframe) DO NOTHING;

CREATE TABLE IF NOT EXISTS barfill.requests (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol_id        uuid NOT NULL REFERENCES public.symbols (id) ON DELETE CASCADE,
    timeframe        text NOT NULL REFERENCES barfill.timeframe_settings (timeframe),
    reason           text NOT NULL CHECK (reason IN ('watchlist', 'chart', 'manual', 'schedule')),
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- Higher runs first: a person waiting (watchlist, chart) 30, manual 20, schedule 10.
    priority         smallint NOT NULL,
    -- The window; NULL from = the timeframe's default depth before the claim, NULL until = the claim's now.
    window_from      timestamptz,
    window_until     timestamptz,
    -- Bumped when a later request widens the window, so a worker that claimed the narrower one
    -- puts the request back in the queue instead of marking it done.
    revision         integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    -- The result, summed over attempts: provider requests spent, bars inserted; gaps left after the last one.
    provider_requests integer NOT NULL DEFAULT 0,
    bars_inserted    bigint NOT NULL DEFAULT 0,
    gaps_left        integer,
    last_error       text,
    CHECK (window_from IS NULL OR window_until IS NULL OR window_from < window_until),
    CHECK ((state = 'running') = (lease_owner IS NOT NULL))
);

-- At most one open request per series: the dedup of request_backfill relies on it.
CREATE UNIQUE INDEX IF NOT EXISTS requests_one_open_per_series
    ON barfill.requests (symbol_id, timeframe) WHERE state IN ('queued', 'running');
-- What a worker claims next.
CREATE INDEX IF NOT EXISTS requests_runnable
    ON barfill.requests (priority DESC, created_at, id) WHERE state IN ('queued', 'running');

-- Queues (or widens) an open request for each timeframe of one symbol. Internal: callers go
-- through request_backfill or the watchlist trigger.
CREATE OR REPLACE FUNCTION barfill.enqueue_series(p_symbol_id uuid, p_timeframes text[], p_reason text,
                                                  p_from timestamptz, p_until timestamptz)
RETURNS TABLE (request_id bigint, timeframe text, state text, created boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    wanted    text[];
    v_unknown text;
    v_rank    smallint;
BEGIN
    IF p_reason IS NULL OR p_reason NOT IN ('watchlist', 'chart', 'manual', 'schedule') THEN
        RAISE EXCEPTION 'unknown reason %: use watchlist, chart, manual or schedule', quote_nullable(left(p_reason, 40))
            USING ERRCODE = '22023';
    END IF;
    IF p_from IS NOT NULL AND p_until IS NOT NULL AND p_until <= p_from THEN
        RAISE EXCEPTION 'the window ends (%) before it starts (%)', p_until, p_from USING ERRCODE = '22023';
    END IF;
    wanted := coalesce(p_timeframes, (SELECT s.default_timeframes FROM barfill.request_settings s));
    IF wanted IS NULL OR cardinality(wanted) = 0 OR array_position(wanted, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'timeframes must be a non-empty list without NULLs' USING ERRCODE = '22023';
    END IF;
    SELECT t INTO v_unknown FROM unnest(wanted) AS t
    WHERE NOT EXISTS (SELECT 1 FROM barfill.timeframe_settings ts WHERE ts.timeframe = t) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown timeframe %: use one of %', quote_literal(left(v_unknown, 40)),
            (SELECT string_agg(ts.timeframe, ', ' ORDER BY ts.default_depth, ts.timeframe) FROM barfill.timeframe_settings ts)
            USING ERRCODE = '22023';
    END IF;
    v_rank := CASE p_reason WHEN 'watchlist' THEN 30 WHEN 'chart' THEN 30 WHEN 'manual' THEN 20 ELSE 10 END;

    RETURN QUERY
    INSERT INTO barfill.requests AS r (symbol_id, timeframe, reason, priority, window_from, window_until)
    SELECT p_symbol_id, t, p_reason, v_rank, p_from, p_until
    FROM (SELECT DISTINCT t FROM unnest(wanted) AS t) AS w
    ORDER BY t
    ON CONFLICT (symbol_id, timeframe) WHERE state IN ('queued', 'running') DO UPDATE SET
        -- The wider window: NULL (the default depth, now) against an explicit bound is resolved
        -- to the bound it stands for today.
        window_from = CASE WHEN r.window_from IS NULL AND EXCLUDED.window_from IS NULL THEN NULL
                           ELSE least(coalesce(r.window_from, now() - (SELECT ts.default_depth FROM barfill.timeframe_settings ts WHERE ts.timeframe = r.timeframe)),
                                      coalesce(EXCLUDED.window_from, now() - (SELECT ts.default_depth FROM barfill.timeframe_settings ts WHERE ts.timeframe = r.timeframe)))
                      END,
        window_until = CASE WHEN r.window_until IS NULL OR EXCLUDED.window_until IS NULL THEN NULL
                            ELSE greatest(r.window_until, EXCLUDED.window_until) END,
        reason = CASE WHEN EXCLUDED.priority > r.priority THEN EXCLUDED.reason ELSE r.reason END,
        priority = greatest(r.priority, EXCLUDED.priority),
        -- A widened window is new work; the same window asked again is not.
        revision = r.revision + CASE
            WHEN (r.window_from IS NOT NULL AND (EXCLUDED.window_from IS NULL OR EXCLUDED.window_from < r.window_from))
              OR (r.window_until IS NOT NULL AND (EXCLUDED.window_until IS NULL OR EXCLUDED.window_until > r.window_until))
            THEN 1 ELSE 0 END,
        updated_at = now()
    RETURNING r.id, r.timeframe, r.state, (r.xmax = 0);
END
$$;

-- The app's entry point: queue a backfill of TICKER's series (the default timeframes when
-- TIMEFRAMES is NULL). A second call for a series with an open request widens that request
-- and raises its priority instead of adding a row.
CREATE OR REPLACE FUNCTION barfill.request_backfill(ticker text, timeframes text[] DEFAULT NULL,
                                                    reason text DEFAULT 'manual',
                                                    from_ts timestamptz DEFAULT NULL,
                                                    until_ts timestamptz DEFAULT NULL)
RETURNS TABLE (request_id bigint, timeframe text, state text, created boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_id uuid;
BEGIN
    IF request_backfill.ticker IS NULL THEN
        RAISE EXCEPTION 'ticker must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT s.id INTO found_id FROM public.symbols s WHERE s.ticker = request_backfill.ticker;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no symbol % in the symbols table', quote_literal(left(request_backfill.ticker, 40))
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT * FROM barfill.enqueue_series(found_id, request_backfill.timeframes, request_backfill.reason,
                                                      request_backfill.from_ts, request_backfill.until_ts);
END
$$;

-- One round trip for a chart: is [from_ts, until_ts) of the series verified? `warming` is false
-- when backfill_status covers it, that is verified_from <= from_ts and
-- verified_through >= least(until_ts, now()) - publication_delay (the timeframe's setting: bars of
-- slots that ended within that delay may not be published yet). Otherwise `warming` is true and,
-- with ENQUEUE, a `chart` request for the window is queued (deduplicated); its id is returned.
CREATE OR REPLACE FUNCTION barfill.chart_readiness(ticker text, timeframe text, from_ts timestamptz,
                                                   until_ts timestamptz, enqueue boolean DEFAULT true)
RETURNS TABLE (warming boolean, verified_through timestamptz, request_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    found_id  uuid;
    delay     interval;
    v_from    timestamptz;
    v_through timestamptz;
    covered   boolean;
    queued    bigint;
BEGIN
    IF chart_readiness.ticker IS NULL OR chart_readiness.timeframe IS NULL OR from_ts IS NULL
       OR until_ts IS NULL OR enqueue IS NULL THEN
        RAISE EXCEPTION 'ticker, timeframe, from_ts, until_ts and enqueue must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF until_ts <= from_ts THEN
        RAISE EXCEPTION 'the window ends (%) before it starts (%)', until_ts, from_ts USING ERRCODE = '22023';
    END IF;
    SELECT s.id INTO found_id FROM public.symbols s WHERE s.ticker = chart_readiness.ticker;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no symbol % in the symbols table', quote_literal(left(chart_readiness.ticker, 40))
            USING ERRCODE = '22023';
    END IF;
    SELECT ts.publication_delay INTO delay FROM barfill.timeframe_settings ts WHERE ts.timeframe = chart_readiness.timeframe;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown timeframe %', quote_literal(left(chart_readiness.timeframe, 40)) USING ERRCODE = '22023';
    END IF;
    SELECT st.verified_from, st.verified_through INTO v_from, v_through
    FROM barfill.backfill_status st WHERE st.symbol_id = found_id AND st.timeframe = chart_readiness.timeframe;
    covered := coalesce(v_from <= from_ts AND v_through >= least(until_ts, now()) - delay, false);
    IF NOT covered AND enqueue THEN
        SELECT e.request_id INTO queued
        FROM barfill.enqueue_series(found_id, ARRAY[chart_readiness.timeframe], 'chart', from_ts, until_ts) e;
    END IF;
    RETURN QUERY SELECT NOT covered, v_through, queued;
END
$$;

-- The watchlist trigger: a symbol added to a watchlist queues its default timeframes in the
-- inserting transaction.
CREATE OR REPLACE FUNCTION barfill.watchlist_item_added() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM barfill.enqueue_series(NEW.symbol_id, NULL, 'watchlist', NULL, NULL);
    RETURN NULL;
END
$$;

-- Installs the trigger when SwiftBolt's watchlist_items exists and it is not there yet;
-- `barfill migrate` calls it on every run, so a table that appears later gets it too.
CREATE OR REPLACE FUNCTION barfill.install_watchlist_trigger() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('public.watchlist_items') IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'public.watchlist_items'::regclass
                                             AND tgname = 'barfill_request_backfill') THEN
        CREATE TRIGGER barfill_request_backfill AFTER INSERT ON public.watchlist_items
            FOR EACH ROW EXECUTE FUNCTION barfill.watchlist_item_added();
    END IF;
    RETURN true;
END
$$;

REVOKE ALL ON FUNCTION barfill.enqueue_series(uuid, text[], text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION barfill.request_backfill(text, text[], text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION barfill.chart_readiness(text, text, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION barfill.watchlist_item_added() FROM PUBLIC;
REVOKE ALL ON FUNCTION barfill.install_watchlist_trigger() FROM PUBLIC;
