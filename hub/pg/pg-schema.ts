/**
 * Cluster mode's tables in PostgreSQL: the same records as the single hub's DuckDB store
 * (hub/store/schema.ts), so users, tokens, sessions, activity, alerts and the sensor registry
 * round-trip unchanged. Made at connect, idempotently, under an advisory lock (hubs and writers
 * may start together), with a version row in `meta` as in hub/store/migrations.ts.
 *
 * Differences from the single hub, and why:
 * - `channels` numbers each (sensor, metric) once for the whole cluster; `series` each
 *   (sensor, room, metric, unit). Hubs number series locally; anything that crosses to
 *   PostgreSQL goes by names, and only the writer and hub/pg/ see these ids.
 * - `readings` is keyed by (channel, ts), the identity rule, so a redelivered bundle or a moved
 *   sensor's resent outbox stores nothing twice; it keeps the reading's series too (room and
 *   unit as taken), so an export is the same CSV as the single hub's. Partitioned by UTC day
 *   (partitions.ts makes them on demand).
 * - activity and alert events get a cluster-wide `id` here; each hub numbers its own events,
 *   and (hub, hub_id) keeps a retried batch from storing an event twice.
 */
import type pg from 'pg';

/** a row as node-postgres returns it: checked field by field below */
type Row = Record<string, unknown>;

export const PG_SCHEMA_VERSION = 1;
/** advisory lock keys (any two numbers no other program here uses) */
export const SCHEMA_LOCK = 0x52570001;
export const PARTITION_LOCK = 0x52570002;
/** held (session-level) by the one hub that drops day partitions past retention (pg-retention.ts) */
export const RETENTION_LOCK = 0x52570003;
/** the retention mark: taken shared by whatever stores readings, for its transaction; exclusive (tried, never waited in line) to raise it */
export const MARK_LOCK = 0x52570004;

const DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS channels (
     channel serial PRIMARY KEY,
     sensor text NOT NULL,
     metric text NOT NULL,
     UNIQUE (sensor, metric))`,
  `CREATE TABLE IF NOT EXISTS series (
     id serial PRIMARY KEY,
     channel integer NOT NULL REFERENCES channels (channel),
     sensor text NOT NULL,
     room text NOT NULL,
     metric text NOT NULL,
     unit text NOT NULL,
     UNIQUE (sensor, room, metric, unit))`,
  `CREATE TABLE IF NOT EXISTS readings (
     channel integer NOT NULL,
     series integer NOT NULL,
     ts bigint NOT NULL,
     value double precision NOT NULL,
     PRIMARY KEY (channel, ts)) PARTITION BY RANGE (ts)`,
  `CREATE TABLE IF NOT EXISTS sensors (
     sensor text PRIMARY KEY,
     room text NOT NULL,
     first_seen bigint NOT NULL,
     last_seen bigint NOT NULL,
     address text,
     declared_metrics text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS users (
     name text PRIMARY KEY,
     password_hash text NOT NULL,
     role text NOT NULL,
     rooms text NOT NULL,
     created_at bigint NOT NULL,
     updated_at bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS sensor_tokens (
     id text PRIMARY KEY,
     secret_sha256 text NOT NULL,
     sensor_pattern text NOT NULL,
     rooms text NOT NULL,
     note text NOT NULL,
     created_at bigint NOT NULL,
     created_by text NOT NULL,
     revoked_at bigint)`,
  `CREATE TABLE IF NOT EXISTS sessions (
     secret_sha256 text PRIMARY KEY,
     user_name text NOT NULL,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS activity (
     id bigserial PRIMARY KEY,
     hub text NOT NULL,
     hub_id bigint NOT NULL,
     ts bigint NOT NULL,
     actor text NOT NULL,
     address text NOT NULL,
     action text NOT NULL,
     target text NOT NULL,
     outcome text NOT NULL,
     code integer NOT NULL,
     detail text NOT NULL,
     UNIQUE (hub, hub_id))`,
  `CREATE TABLE IF NOT EXISTS alert_rules (
     name text PRIMARY KEY,
     rule text NOT NULL,
     room text,
     sensor text,
     webhooks text NOT NULL,
     updated_at bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS alert_events (
     id bigserial PRIMARY KEY,
     hub text NOT NULL,
     hub_id bigint NOT NULL,
     ts bigint NOT NULL,
     rule text NOT NULL,
     state text NOT NULL,
     sensor text NOT NULL,
     room text NOT NULL,
     metric text,
     value double precision,
     condition text NOT NULL,
     UNIQUE (hub, hub_id))`,
  // Each hub's sensor connections (pg-connections.ts): ids are per hub, as each hub numbers its own.
  `CREATE TABLE IF NOT EXISTS connections (
     hub text NOT NULL,
     id bigint NOT NULL,
     sensor text NOT NULL,
     address text NOT NULL,
     connected_at bigint NOT NULL,
     disconnected_at bigint,
     PRIMARY KEY (hub, id))`,
  `CREATE INDEX IF NOT EXISTS connections_sensor ON connections (sensor, connected_at)`,
  // The writers' exact counts, one row per writer process name, moved in each batch's transaction.
  `CREATE TABLE IF NOT EXISTS writer_counts (
     writer text PRIMARY KEY,
     batches bigint NOT NULL,
     bundles bigint NOT NULL,
     inserted bigint NOT NULL,
     duplicates bigint NOT NULL,
     updated_at bigint NOT NULL)`,
];

/** A PostgreSQL database whose Roomwatch schema is newer than this program's. */
export class PgSchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `the PostgreSQL database holds Roomwatch schema version ${found}, written by a newer Roomwatch; this program reads up to ` +
        `${PG_SCHEMA_VERSION}: upgrade every hub and writer to the same version`,
    );
    this.name = 'PgSchemaTooNewError';
  }
}

/** Makes the tables (or finds them), in one transaction under the schema lock. */
export async function ensureSchema(c: pg.ClientBase): Promise<{ from: number | null; to: number }> {
  await c.query('BEGIN');
  try {
    await c.query<Row>('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const hasMeta = (await c.query<Row>(`SELECT to_regclass('meta') IS NOT NULL AS present`)).rows[0]?.present === true;
    const found = hasMeta ? (await c.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`)).rows[0] : undefined;
    const from = found ? Number(found.value) : null;
    if (from !== null && from > PG_SCHEMA_VERSION) throw new PgSchemaTooNewError(from);
    for (const sql of DDL) await c.query(sql);
    await c.query(`INSERT INTO meta VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
      String(PG_SCHEMA_VERSION),
    ]);
    await c.query('COMMIT');
    return { from, to: PG_SCHEMA_VERSION };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
