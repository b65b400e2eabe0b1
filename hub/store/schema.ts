/**
 * The store's tables. Readings are narrow (series id, ts, value: about 5 bytes a row after
 * DuckDB's compression); everything that repeats lives once in `series`. A series is one
 * (sensor, room, metric, unit): a reading keeps the room and unit it was taken with, and
 * identity for duplicates is (sensor, metric, ts) across the series of that sensor and metric:
 * the series' `channel` (one number per sensor and metric) makes that an integer comparison.
 */
/** Checked at open, and raised with a step in migrations.ts whenever the tables change. */
export const SCHEMA_VERSION = 3;

export const DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS series (
     id INTEGER PRIMARY KEY,
     channel INTEGER NOT NULL,
     sensor VARCHAR NOT NULL,
     room VARCHAR NOT NULL,
     metric VARCHAR NOT NULL,
     unit VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS sensors (
     sensor VARCHAR PRIMARY KEY,
     room VARCHAR NOT NULL,
     first_seen BIGINT NOT NULL,
     last_seen BIGINT NOT NULL,
     address VARCHAR,
     declared_metrics VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS connections (
     id BIGINT PRIMARY KEY,
     sensor VARCHAR NOT NULL,
     address VARCHAR NOT NULL,
     connected_at BIGINT NOT NULL,
     disconnected_at BIGINT)`,
  // Access control (hub/access/): secrets are kept only as hashes.
  `CREATE TABLE IF NOT EXISTS users (
     name VARCHAR PRIMARY KEY,
     password_hash VARCHAR NOT NULL,
     role VARCHAR NOT NULL,
     rooms VARCHAR NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS sensor_tokens (
     id VARCHAR PRIMARY KEY,
     secret_sha256 VARCHAR NOT NULL,
     sensor_pattern VARCHAR NOT NULL,
     rooms VARCHAR NOT NULL,
     note VARCHAR NOT NULL,
     created_at BIGINT NOT NULL,
     created_by VARCHAR NOT NULL,
     revoked_at BIGINT)`,
  `CREATE TABLE IF NOT EXISTS sessions (
     secret_sha256 VARCHAR PRIMARY KEY,
     user_name VARCHAR NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS activity (
     id BIGINT PRIMARY KEY,
     ts BIGINT NOT NULL,
     actor VARCHAR NOT NULL,
     address VARCHAR NOT NULL,
     action VARCHAR NOT NULL,
     target VARCHAR NOT NULL,
     outcome VARCHAR NOT NULL,
     code INTEGER NOT NULL,
     detail VARCHAR NOT NULL)`,
  // Alerts (hub/alerts/): the rules admins set, and every firing and clearing.
  `CREATE TABLE IF NOT EXISTS alert_rules (
     name VARCHAR PRIMARY KEY,
     rule VARCHAR NOT NULL,
     room VARCHAR,
     sensor VARCHAR,
     webhooks VARCHAR NOT NULL,
     updated_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS alert_events (
     id BIGINT PRIMARY KEY,
     ts BIGINT NOT NULL,
     rule VARCHAR NOT NULL,
     state VARCHAR NOT NULL,
     sensor VARCHAR NOT NULL,
     room VARCHAR NOT NULL,
     metric VARCHAR,
     value DOUBLE,
     condition VARCHAR NOT NULL)`,
  // Rollups (rollup-runner.ts): each configured tier's progress, its buckets in a table of its own
  // (rollup_<width>ms, made at open), and the buckets late readings changed, still to recompute.
  `CREATE TABLE IF NOT EXISTS rollup_tiers (
     width_ms BIGINT PRIMARY KEY,
     rolled_below BIGINT NOT NULL,
     kept_from BIGINT)`,
  `CREATE TABLE IF NOT EXISTS rollup_late (series_id INTEGER NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL)`,
];

/** The database file inside the data folder. */
export const DATABASE_FILE = 'roomwatch.duckdb';
