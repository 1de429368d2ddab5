-- Bourse schema 0001, SQLite dialect (SQLite 3.37 or newer: STRICT tables). Its twin for PostgreSQL is
-- sql/migrations/postgresql/0001_initial.sql; both mean the same, column for column.
--
-- How this file is read (sql/migrations.cpp, splitStatements): lines starting with "--" are comments; a
-- statement runs from its first line to the next line that ends with ";". So no line inside a statement
-- may end with ";", and nothing may follow a statement's ";" on its line. The whole file is applied in one
-- transaction and recorded in schema_migrations with its SHA-256: never edit it once released, add
-- 0002_<name>.sql instead.
--
-- Conventions, the same in both dialects:
-- * Money, prices and quantities are integers in raw units of 10^-8 (bourse::Decimal::raw()): exact.
-- * Times are integer nanoseconds since the Unix epoch (UTC), in columns named *_ns.
-- * INTEGER is SQLite's 64-bit integer, PostgreSQL's BIGINT; booleans are 0 or 1. STRICT makes SQLite refuse
--   a value of the wrong type rather than store it as text.
-- * Ids of instruments and assets are the engine's (from 0); ids of orders and trades, and every seq, are the
--   engine's (from 1); user ids are the engine's account ids.
-- * commands and events are the journal. orders, trades, balances and candles are projections of it: they
--   carry no foreign keys, since they are written at journal speed and can be rebuilt from the journal.

-- The input log: every command the engine applied, in order. first/last_event_seq are the events it
-- emitted, both 0 when it emitted none.
CREATE TABLE commands (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    time_ns INTEGER NOT NULL,
    type INTEGER NOT NULL CHECK (type >= 0),
    first_event_seq INTEGER NOT NULL,
    last_event_seq INTEGER NOT NULL,
    payload BLOB NOT NULL,
    checksum INTEGER NOT NULL,
    CHECK ((first_event_seq = 0 AND last_event_seq = 0) OR (first_event_seq > 0 AND last_event_seq >= first_event_seq))
) STRICT;

-- The output journal: every event, numbered by the engine's global sequence.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    command_seq INTEGER NOT NULL CHECK (command_seq > 0),
    time_ns INTEGER NOT NULL CHECK (time_ns >= 0),
    type INTEGER NOT NULL CHECK (type >= 0),
    payload BLOB NOT NULL,
    checksum INTEGER NOT NULL
) STRICT;

-- The engine's whole state after command_seq (and event_seq), so that a restart replays only what follows.
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    command_seq INTEGER NOT NULL CHECK (command_seq >= 0),
    event_seq INTEGER NOT NULL CHECK (event_seq >= 0),
    time_ns INTEGER NOT NULL CHECK (time_ns >= 0),
    state_hash INTEGER NOT NULL,
    payload BLOB NOT NULL,
    checksum INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL
) STRICT;

CREATE INDEX snapshots_command_seq ON snapshots (command_seq DESC);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY CHECK (id >= 0),
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 16)
) STRICT;

CREATE TABLE instruments (
    id INTEGER PRIMARY KEY CHECK (id >= 0),
    symbol TEXT NOT NULL UNIQUE CHECK (length(symbol) BETWEEN 1 AND 32),
    base_asset INTEGER NOT NULL REFERENCES assets (id) DEFERRABLE INITIALLY DEFERRED,
    quote_asset INTEGER NOT NULL REFERENCES assets (id) DEFERRABLE INITIALLY DEFERRED,
    tick_size INTEGER NOT NULL CHECK (tick_size > 0),
    lot_size INTEGER NOT NULL CHECK (lot_size > 0),
    min_quantity INTEGER NOT NULL CHECK (min_quantity > 0),
    status TEXT NOT NULL CHECK (status IN ('trading', 'halted')),
    created_at_ns INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    CHECK (base_asset <> quote_asset),
    CHECK (min_quantity % lot_size = 0),
    CHECK (updated_at_ns >= created_at_ns)
) STRICT;

-- One row per order, as of its latest event (seq). price is NULL for a market order; filled_notional is the
-- sum of price x quantity over its fills, in raw quote units, for the average price.
-- The CHECKs of orders and trades spell a set of values as an OR chain, not IN (...): SQLite 3.40 builds a
-- table for a constant IN list each time such a CHECK runs (2-3 us a row per column), at journal speed.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY CHECK (id > 0),
    user_id INTEGER NOT NULL CHECK (user_id > 0),
    instrument_id INTEGER NOT NULL CHECK (instrument_id >= 0),
    client_order_id TEXT CHECK (length(client_order_id) BETWEEN 1 AND 64),
    side TEXT NOT NULL CHECK (side = 'buy' OR side = 'sell'),
    type TEXT NOT NULL CHECK (type = 'limit' OR type = 'market'),
    time_in_force TEXT NOT NULL CHECK (time_in_force = 'gtc' OR time_in_force = 'ioc' OR time_in_force = 'fok'),
    post_only INTEGER NOT NULL CHECK (post_only = 0 OR post_only = 1),
    stp TEXT NOT NULL CHECK (stp = 'expire_taker' OR stp = 'expire_maker' OR stp = 'expire_both' OR stp = 'none'),
    price INTEGER CHECK (price > 0),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    filled_quantity INTEGER NOT NULL CHECK (filled_quantity >= 0),
    filled_notional INTEGER NOT NULL CHECK (filled_notional >= 0),
    status TEXT NOT NULL CHECK (status = 'new' OR status = 'partially_filled' OR status = 'filled'
        OR status = 'cancelled' OR status = 'expired'),
    created_at_ns INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    seq INTEGER NOT NULL CHECK (seq > 0),
    CHECK ((type = 'limit') = (price IS NOT NULL)),
    CHECK (type = 'limit' OR time_in_force <> 'gtc'),
    CHECK (post_only = 0 OR (type = 'limit' AND time_in_force = 'gtc')),
    CHECK (filled_quantity <= quantity),
    CHECK (status <> 'new' OR filled_quantity = 0),
    CHECK (status <> 'partially_filled' OR (filled_quantity > 0 AND filled_quantity < quantity)),
    CHECK ((status = 'filled') = (filled_quantity = quantity)),
    CHECK (updated_at_ns >= created_at_ns)
) STRICT;

-- A user's orders by status (open = new or partially_filled) or by instrument, newest first; a client order
-- id looked up per user; an instrument's open orders (kill switch, mass cancel).
CREATE INDEX orders_user_status_created ON orders (user_id, status, created_at_ns DESC);
CREATE INDEX orders_user_instrument_created ON orders (user_id, instrument_id, created_at_ns DESC);
CREATE INDEX orders_user_client_order_id ON orders (user_id, client_order_id);
CREATE INDEX orders_instrument_status ON orders (instrument_id, status);

CREATE TABLE trades (
    id INTEGER PRIMARY KEY CHECK (id > 0),
    instrument_id INTEGER NOT NULL CHECK (instrument_id >= 0),
    price INTEGER NOT NULL CHECK (price > 0),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    taker_side TEXT NOT NULL CHECK (taker_side = 'buy' OR taker_side = 'sell'),
    maker_order_id INTEGER NOT NULL CHECK (maker_order_id > 0),
    taker_order_id INTEGER NOT NULL CHECK (taker_order_id > 0),
    maker_user_id INTEGER NOT NULL CHECK (maker_user_id > 0),
    taker_user_id INTEGER NOT NULL CHECK (taker_user_id > 0),
    seq INTEGER NOT NULL CHECK (seq > 0),
    time_ns INTEGER NOT NULL CHECK (time_ns >= 0),
    CHECK (maker_order_id <> taker_order_id)
) STRICT;

-- Public trades per instrument and a user's fills, newest first; candles rebuilt over a time range.
CREATE INDEX trades_instrument_id ON trades (instrument_id, id DESC);
CREATE INDEX trades_maker_user_id ON trades (maker_user_id, id DESC);
CREATE INDEX trades_taker_user_id ON trades (taker_user_id, id DESC);
CREATE INDEX trades_instrument_time ON trades (instrument_id, time_ns);

CREATE TABLE balances (
    user_id INTEGER NOT NULL CHECK (user_id > 0),
    asset_id INTEGER NOT NULL CHECK (asset_id >= 0),
    available INTEGER NOT NULL CHECK (available >= 0),
    reserved INTEGER NOT NULL CHECK (reserved >= 0),
    updated_seq INTEGER NOT NULL CHECK (updated_seq > 0),
    PRIMARY KEY (user_id, asset_id)
) STRICT, WITHOUT ROWID;

-- OHLCV per instrument and interval. A candle exists once a trade falls in it, and starts at a multiple of
-- its interval since the epoch.
CREATE TABLE candles (
    instrument_id INTEGER NOT NULL CHECK (instrument_id >= 0),
    interval_s INTEGER NOT NULL CHECK (interval_s > 0),
    start_ns INTEGER NOT NULL,
    open INTEGER NOT NULL,
    high INTEGER NOT NULL,
    low INTEGER NOT NULL CHECK (low > 0),
    close INTEGER NOT NULL,
    volume INTEGER NOT NULL CHECK (volume > 0),
    trades INTEGER NOT NULL CHECK (trades > 0),
    PRIMARY KEY (instrument_id, interval_s, start_ns),
    CHECK (low <= open AND low <= close AND high >= open AND high >= close),
    CHECK (start_ns % (interval_s * 1000000000) = 0)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: a user id is never handed out twice, even after the newest user is deleted, since orders
-- and balances name users by id.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id > 0),
    username TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 3 AND 32),
    password_hash TEXT NOT NULL CHECK (password_hash <> ''),
    role TEXT NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    rate_limit_tier TEXT NOT NULL DEFAULT 'default' CHECK (rate_limit_tier IN ('default', 'pro', 'unlimited')),
    created_at_ns INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    CHECK (updated_at_ns >= created_at_ns)
) STRICT;

-- One login's chain of refresh tokens; rotated_at_ns is NULL until the first rotation.
CREATE TABLE refresh_families (
    id TEXT NOT NULL PRIMARY KEY CHECK (length(id) > 0),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_token_hash TEXT NOT NULL CHECK (current_token_hash <> ''),
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    rotated_at_ns INTEGER,
    CHECK (expires_at_ns > created_at_ns),
    CHECK (rotated_at_ns >= created_at_ns)
) STRICT;

CREATE INDEX refresh_families_user ON refresh_families (user_id);

-- Run-time settings; updated_by is NULL for the venue's own defaults.
CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY CHECK (length(key) > 0),
    value TEXT NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
) STRICT;

-- actor is a username, or "system" for the venue itself; details is JSON.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ns INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (length(action) > 0),
    target TEXT,
    details TEXT,
    request_id TEXT
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at_ns DESC);
