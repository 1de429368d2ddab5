-- Bourse schema 0002, PostgreSQL dialect: the indexes of the orders and trades projections, for the reads of
-- sql/repositories.h. Its twin for SQLite is sql/migrations/sqlite/0002_query_indexes.sql; both mean the
-- same.
--
-- How this file is read (sql/migrations.cpp, splitStatements): lines starting with "--" are comments; a
-- statement runs from its first line to the next line that ends with ";". So no line inside a statement
-- may end with ";", and nothing may follow a statement's ";" on its line. The whole file is applied in one
-- transaction and recorded in schema_migrations with its SHA-256: never edit it once released, add
-- 0003_<name>.sql instead.
--
-- The journal writes orders and trades in every group commit, and every secondary index costs each row
-- written, so these two tables keep only the indexes that a read of sql/repositories.cpp needs. Order and
-- trade ids increase in the order of a clock that never runs backwards, so newest first is id DESC: the
-- listings and the CSV export's keyset order by id alone, which an index ending with id serves.
--
-- The orders indexes after this file (every user's orders, admins only, read the primary key backwards):
-- * orders_user_id: a user's orders, of any status or a closed one (filtered), and their export.
-- * orders_user_open_id: a user's open orders, the listing bots poll, also on one instrument. Partial, so
--   that it holds only the open orders however long the history; a query uses it when its WHERE has this
--   very predicate. instrument_id and status complete it, so that counting open orders reads no row (SQLite
--   3.40 does not count the columns of a partial index's WHERE as held by the index). It comes after
--   orders_user_id, which could serve the same listings: SQLite, without statistics, ranks the two alike
--   and takes the later one.
-- * orders_user_instrument_id: a user's orders on one instrument.
-- * orders_user_client_order_id (0001): an order looked up by the user's client order id.
-- The trades indexes: trades_maker_user_id and trades_taker_user_id (0001) for a user's fills;
-- trades_instrument_time_id for an instrument's trades newest first, the ticker's window and time ranges.

DROP INDEX orders_user_status_created;
DROP INDEX orders_user_instrument_created;
DROP INDEX orders_instrument_status;

CREATE INDEX orders_user_id ON orders (user_id, id);

CREATE INDEX orders_user_open_id ON orders (user_id, id, instrument_id, status)
    WHERE status IN ('new', 'partially_filled');

CREATE INDEX orders_user_instrument_id ON orders (user_id, instrument_id, id);

DROP INDEX trades_instrument_id;
DROP INDEX trades_instrument_time;

CREATE INDEX trades_instrument_time_id ON trades (instrument_id, time_ns, id);
