-- Bourse schema 0003, PostgreSQL dialect: the indexes of the accounts store, sql/accounts.h. Its twin for
-- SQLite is sql/migrations/sqlite/0003_accounts.sql; both mean the same.
--
-- How this file is read (sql/migrations.cpp, splitStatements): lines starting with "--" are comments; a
-- statement runs from its first line to the next line that ends with ";". So no line inside a statement
-- may end with ";", and nothing may follow a statement's ";" on its line. The whole file is applied in one
-- transaction and recorded in schema_migrations with its SHA-256: never edit it once released, add
-- 0004_<name>.sql instead.
--
-- * users_username_folded: a username is unique whatever its case ("Alice" and "alice" are one name), and a
--   login finds its user through lower(username). The index decides, so two concurrent registrations of
--   one name make one user. Usernames are ASCII ([A-Za-z0-9_.-], spec/API.md §4), which SQLite's lower()
--   and PostgreSQL's fold alike. 0001's case-sensitive UNIQUE stays: it is implied by this one.
-- * refresh_families_expires: the housekeeping that deletes expired families.

CREATE UNIQUE INDEX users_username_folded ON users (lower(username));

CREATE INDEX refresh_families_expires ON refresh_families (expires_at_ns);
