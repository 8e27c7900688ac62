-- 0001: SwiftBolt's tables for a fresh install (symbols, ohlc_bars, watchlists).
--
-- On an existing SwiftBolt database every statement here is a no-op: types and tables are
-- created only when missing and nothing existing is altered. barfill never alters ohlc_bars.

DO $$
BEGIN
    IF to_regtype('asset_type') IS NULL THEN
        CREATE TYPE asset_type AS ENUM ('stock', 'etf', 'index', 'crypto', 'forex', 'future', 'option');
    END IF;
    IF to_regtype('data_provider') IS NULL THEN
        CREATE TYPE data_provider AS ENUM ('finnhub', 'massive', 'polygon', 'alpaca', 'yfinance', 'tradier');
    END IF;
    IF to_regtype('timeframe') IS NULL THEN
        CREATE TYPE timeframe AS ENUM ('m15', 'h1', 'h4', 'd1', 'w1');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS symbols (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ticker         text NOT NULL UNIQUE,
    asset_type     asset_type NOT NULL DEFAULT 'stock',
    description    text,
    primary_source data_provider NOT NULL DEFAULT 'massive',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ohlc_bars (
    id         bigserial PRIMARY KEY,
    symbol_id  uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
    timeframe  timeframe NOT NULL,
    ts         timestamptz NOT NULL,
    open       numeric(20, 6) NOT NULL,
    high       numeric(20, 6) NOT NULL,
    low        numeric(20, 6) NOT NULL,
    close      numeric(20, 6) NOT NULL,
    volume     numeric(20, 2) NOT NULL,
    provider   data_provider NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol_id, timeframe, ts)
);

CREATE TABLE IF NOT EXISTS watchlists (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS watchlist_items (
    watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    symbol_id    uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (watchlist_id, symbol_id)
);
