/**
 * The store's tables. Readings are narrow (series id, ts, value: about 5 bytes a row after
 * DuckDB's compression); everything that repeats lives once in `series`. A series is one
 * (sensor, room, metric, unit): a reading keeps the room and unit it was taken with, and
 * identity for duplicates is (sensor, metric, ts) across the series of that sensor and metric:
 * the series' `channel` (one number per sensor and metric) makes that an integer comparison.
 */
export const SCHEMA_VERSION = 1;

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
];

/** The database file inside the data folder. */
export const DATABASE_FILE = 'roomwatch.duckdb';
