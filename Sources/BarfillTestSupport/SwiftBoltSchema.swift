/// SwiftBolt's tables as the app created them on Supabase (enum-typed timeframe and provider,
/// uuid ids, numeric prices, the unique key ohlc_bars relies on), for tests that barfill works
/// on the app's schema unchanged. Deliberately not sql/0001: the app's enums list providers in
/// their own order, its symbols table has more columns and ohlc_bars has an extra index.
enum SwiftBoltSchema {
    static let sql = """
        CREATE TYPE asset_type AS ENUM ('stock', 'etf', 'crypto', 'forex', 'index');
        CREATE TYPE data_provider AS ENUM ('finnhub', 'massive', 'polygon', 'alpaca', 'yfinance', 'tradier');
        CREATE TYPE timeframe AS ENUM ('m15', 'h1', 'h4', 'd1', 'w1');

        CREATE TABLE symbols (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            ticker text NOT NULL UNIQUE,
            asset_type asset_type NOT NULL,
            description text,
            primary_source data_provider NOT NULL DEFAULT 'finnhub',
            exchange text,
            currency text DEFAULT 'USD',
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE ohlc_bars (
            id bigserial PRIMARY KEY,
            symbol_id uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
            timeframe timeframe NOT NULL,
            ts timestamptz NOT NULL,
            open numeric(20, 6) NOT NULL,
            high numeric(20, 6) NOT NULL,
            low numeric(20, 6) NOT NULL,
            close numeric(20, 6) NOT NULL,
            volume numeric(20, 2) NOT NULL DEFAULT 0,
            provider data_provider NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ohlc_bars_symbol_timeframe_ts_key UNIQUE (symbol_id, timeframe, ts)
        );
        CREATE INDEX idx_ohlc_bars_symbol_timeframe_ts_desc ON ohlc_bars (symbol_id, timeframe, ts DESC);

        CREATE TABLE watchlists (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE watchlist_items (
            watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
            symbol_id uuid NOT NULL REFERENCES symbols (id) ON DELETE CASCADE,
            added_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (watchlist_id, symbol_id)
        );
        """
}
