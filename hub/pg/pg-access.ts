/**
 * Access control and the activity log in PostgreSQL: the same records as the single hub's
 * hub/store/access-sql.ts, so users, tokens and sessions round-trip unchanged. Statements take
 * parameters; nothing a user typed is pasted into SQL.
 *
 * Each hub numbers its activity events itself (from the largest of its own at start); PostgreSQL
 * keeps them under (hub, hub_id) and gives each a cluster-wide id, the one queries page by.
 */
import type pg from 'pg';
import type { AccessChange, AccessState, ActivityQuery, ActivityRow, Role } from '../access/access-records.ts';
import { ACCESS_CHANNEL } from './pg-history.ts';
import { Where } from './pg-where.ts';

/** a row as node-postgres returns it: checked field by field below */
type Row = Record<string, unknown>;

export async function loadAccess(c: pg.ClientBase, now: number, hub: string): Promise<AccessState> {
  // As the single hub: sessions expired a week ago go; younger ones are still answered "expired".
  await c.query('DELETE FROM sessions WHERE expires_at <= $1', [now - 7 * 86_400_000]);
  const users = await c.query<Row>('SELECT name, password_hash, role, rooms, created_at, updated_at FROM users ORDER BY name');
  const tokens = await c.query<Row>(
    'SELECT id, secret_sha256, sensor_pattern, rooms, note, created_at, created_by, revoked_at FROM sensor_tokens ORDER BY created_at, id',
  );
  const sessions = await c.query<Row>('SELECT secret_sha256, user_name, created_at, expires_at FROM sessions');
  const maxId = await c.query<{ m: number }>('SELECT coalesce(max(hub_id), 0) AS m FROM activity WHERE hub = $1', [hub]);
  return {
    users: users.rows.map((r) => ({
      name: String(r.name),
      passwordHash: String(r.password_hash),
      role: String(r.role) as Role,
      rooms: JSON.parse(String(r.rooms)) as string[],
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    })),
    tokens: tokens.rows.map((r) => ({
      id: String(r.id),
      secretSha256: String(r.secret_sha256),
      sensorPattern: String(r.sensor_pattern),
      rooms: JSON.parse(String(r.rooms)) as string[],
      note: String(r.note),
      createdAt: Number(r.created_at),
      createdBy: String(r.created_by),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    })),
    sessions: sessions.rows.map((r) => ({
      secretSha256: String(r.secret_sha256),
      user: String(r.user_name),
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    })),
    maxActivityId: Number(maxId.rows[0]?.m ?? 0),
  };
}

/** One transaction, with the notification that makes every hub reload (delivered only if it commits). */
export async function writeAccess(c: pg.ClientBase, changes: AccessChange[], hub: string): Promise<void> {
  await c.query('BEGIN');
  try {
    for (const ch of changes) await writeOne(c, ch);
    await c.query<Row>('SELECT pg_notify($1, $2)', [ACCESS_CHANNEL, hub]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function writeOne(c: pg.ClientBase, ch: AccessChange): Promise<void> {
  switch (ch.kind) {
    case 'put-user': {
      const u = ch.user;
      await c.query(
        `INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
           role = excluded.role, rooms = excluded.rooms, created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [u.name, u.passwordHash, u.role, JSON.stringify(u.rooms), u.createdAt, u.updatedAt],
      );
      return;
    }
    case 'delete-user':
      await c.query('DELETE FROM sessions WHERE user_name = $1', [ch.name]);
      await c.query('DELETE FROM users WHERE name = $1', [ch.name]);
      return;
    case 'put-token': {
      const t = ch.token;
      await c.query(
        `INSERT INTO sensor_tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET
           secret_sha256 = excluded.secret_sha256, sensor_pattern = excluded.sensor_pattern, rooms = excluded.rooms, note = excluded.note,
           created_at = excluded.created_at, created_by = excluded.created_by, revoked_at = excluded.revoked_at`,
        [t.id, t.secretSha256, t.sensorPattern, JSON.stringify(t.rooms), t.note, t.createdAt, t.createdBy, t.revokedAt],
      );
      return;
    }
    case 'put-session': {
      const s = ch.session;
      await c.query(
        `INSERT INTO sessions VALUES ($1, $2, $3, $4) ON CONFLICT (secret_sha256) DO UPDATE SET user_name = excluded.user_name,
           created_at = excluded.created_at, expires_at = excluded.expires_at`,
        [s.secretSha256, s.user, s.createdAt, s.expiresAt],
      );
      return;
    }
    case 'delete-sessions':
      await c.query('DELETE FROM sessions WHERE secret_sha256 = ANY($1::text[])', [ch.secretSha256]);
      return;
  }
}

/** One statement; a retry of a batch stored after all adds nothing ((hub, hub_id) is one event). */
export async function appendActivity(c: pg.ClientBase, rows: ActivityRow[], hub: string): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof ActivityRow>(k: K, f: (v: ActivityRow[K]) => unknown) => rows.map((r) => f(r[k]));
  await c.query(
    `INSERT INTO activity (hub, hub_id, ts, actor, address, action, target, outcome, code, detail)
       SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
     ON CONFLICT (hub, hub_id) DO NOTHING`,
    [
      hub,
      col('id', (v) => Math.trunc(Number(v))),
      col('ts', (v) => Math.trunc(Number(v))),
      col('actor', String),
      col('address', String),
      col('action', String),
      col('target', String),
      col('outcome', String),
      col('code', (v) => Number(v) | 0),
      col('detail', String),
    ],
  );
}

export async function queryActivity(c: pg.ClientBase, q: ActivityQuery): Promise<ActivityRow[]> {
  const w = new Where();
  if (q.after !== null) w.add(`id > ${w.param(q.after)}`);
  if (q.actions) w.add(`action = ANY(${w.param(q.actions)}::text[])`);
  if (q.actors) w.add(`actor = ANY(${w.param(q.actors)}::text[])`);
  const order = q.after !== null ? 'ASC' : 'DESC';
  const rows = await c.query<Row>(
    `SELECT id, ts, actor, address, action, target, outcome, code, detail FROM activity
     ${w.sql} ORDER BY id ${order} LIMIT ${Math.trunc(q.limit)}`,
    w.params,
  );
  const events = rows.rows.map((r): ActivityRow => ({
    id: Number(r.id),
    ts: Number(r.ts),
    actor: String(r.actor),
    address: String(r.address),
    action: String(r.action) as ActivityRow['action'],
    target: String(r.target),
    outcome: String(r.outcome) as ActivityRow['outcome'],
    code: Number(r.code),
    detail: String(r.detail),
  }));
  return order === 'DESC' ? events.reverse() : events;
}
