/**
 * The store worker's side of access control: loading users, tokens and sessions at open,
 * writing their changes, and appending to and reading the activity log. Statements take
 * parameters; nothing a user typed is pasted into SQL.
 */
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type {
  AccessChange,
  AccessState,
  ActivityQuery,
  ActivityRow,
  Role,
  SessionRow,
  TokenRow,
  UserRow,
} from '../access/access-records.ts';

const nullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function loadAccess(c: DuckDBConnection, now: number): Promise<AccessState> {
  // Sessions expired a week ago are dead weight: they go at start. Younger ones stay, so their
  // tokens are still answered "expired" (log in again) rather than "unknown".
  await c.run('DELETE FROM sessions WHERE expires_at <= $1', [BigInt(now - 7 * 86_400_000)]);
  const users = (await c.runAndReadAll('SELECT name, password_hash, role, rooms, created_at, updated_at FROM users ORDER BY name'))
    .getRows()
    .map(([name, hash, role, rooms, createdAt, updatedAt]): UserRow => ({
      name: String(name),
      passwordHash: String(hash),
      role: String(role) as Role,
      rooms: JSON.parse(String(rooms)) as string[],
      createdAt: Number(createdAt),
      updatedAt: Number(updatedAt),
    }));
  const tokens = (
    await c.runAndReadAll(
      'SELECT id, secret_sha256, sensor_pattern, rooms, note, created_at, created_by, revoked_at FROM sensor_tokens ORDER BY created_at, id',
    )
  )
    .getRows()
    .map(([id, sha, pattern, rooms, note, createdAt, createdBy, revokedAt]): TokenRow => ({
      id: String(id),
      secretSha256: String(sha),
      sensorPattern: String(pattern),
      rooms: JSON.parse(String(rooms)) as string[],
      note: String(note),
      createdAt: Number(createdAt),
      createdBy: String(createdBy),
      revokedAt: nullableNumber(revokedAt),
    }));
  const sessions = (await c.runAndReadAll('SELECT secret_sha256, user_name, created_at, expires_at FROM sessions'))
    .getRows()
    .map(([sha, user, createdAt, expiresAt]): SessionRow => ({
      secretSha256: String(sha),
      user: String(user),
      createdAt: Number(createdAt),
      expiresAt: Number(expiresAt),
    }));
  const maxId = (await c.runAndReadAll('SELECT coalesce(max(id), 0) FROM activity')).getRows()[0]?.[0];
  return { users, tokens, sessions, maxActivityId: Number(maxId ?? 0) };
}

/** One transaction: an admin's change lands whole or not at all. */
export async function writeAccess(c: DuckDBConnection, changes: AccessChange[]): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    for (const ch of changes) await writeOne(c, ch);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function writeOne(c: DuckDBConnection, ch: AccessChange): Promise<void> {
  switch (ch.kind) {
    case 'put-user': {
      const u = ch.user;
      await c.run('INSERT OR REPLACE INTO users VALUES ($1, $2, $3, $4, $5, $6)', [
        u.name,
        u.passwordHash,
        u.role,
        JSON.stringify(u.rooms),
        BigInt(u.createdAt),
        BigInt(u.updatedAt),
      ]);
      return;
    }
    case 'delete-user':
      await c.run('DELETE FROM sessions WHERE user_name = $1', [ch.name]);
      await c.run('DELETE FROM users WHERE name = $1', [ch.name]);
      return;
    case 'put-token': {
      const t = ch.token;
      await c.run('INSERT OR REPLACE INTO sensor_tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        t.id,
        t.secretSha256,
        t.sensorPattern,
        JSON.stringify(t.rooms),
        t.note,
        BigInt(t.createdAt),
        t.createdBy,
        t.revokedAt === null ? null : BigInt(t.revokedAt),
      ]);
      return;
    }
    case 'put-session': {
      const s = ch.session;
      await c.run('INSERT OR REPLACE INTO sessions VALUES ($1, $2, $3, $4)', [
        s.secretSha256,
        s.user,
        BigInt(s.createdAt),
        BigInt(s.expiresAt),
      ]);
      return;
    }
    case 'delete-sessions':
      for (const sha of ch.secretSha256) await c.run('DELETE FROM sessions WHERE secret_sha256 = $1', [sha]);
      return;
  }
}

/**
 * Many events at once, through an appender into a staging table, in one transaction: a failed
 * batch leaves nothing behind (no row, no open appender, no open transaction), and a retry of a
 * batch that was stored after all adds nothing (an id is one event for good, so a stored id is
 * the same event). Every value goes in as the column's type, whatever the caller passed.
 */
export async function appendActivity(c: DuckDBConnection, rows: ActivityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await c.run('CREATE TEMP TABLE IF NOT EXISTS activity_in AS SELECT * FROM activity LIMIT 0');
  await c.run('BEGIN TRANSACTION');
  let a: DuckDBAppender | null = null;
  try {
    await c.run('DELETE FROM activity_in');
    a = await c.createAppender('activity_in', 'main', 'temp');
    for (const r of rows) {
      a.appendBigInt(BigInt(Math.trunc(Number(r.id))));
      a.appendBigInt(BigInt(Math.trunc(Number(r.ts))));
      a.appendVarchar(String(r.actor));
      a.appendVarchar(String(r.address));
      a.appendVarchar(String(r.action));
      a.appendVarchar(String(r.target));
      a.appendVarchar(String(r.outcome));
      a.appendInteger(Number(r.code) | 0);
      a.appendVarchar(String(r.detail));
      a.endRow();
    }
    a.closeSync();
    a = null;
    await c.run('INSERT OR IGNORE INTO activity SELECT * FROM activity_in');
    await c.run('DELETE FROM activity_in');
    await c.run('COMMIT');
  } catch (err) {
    if (a) {
      // Rows half appended must not reach the table when the appender is closed or collected.
      try {
        a.clear();
        a.closeSync();
      } catch {
        // closing a failed appender may fail too; the rollback below undoes what it wrote
      }
    }
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

export async function queryActivity(instance: DuckDBInstance, q: ActivityQuery): Promise<ActivityRow[]> {
  const c = await instance.connect();
  try {
    const where: string[] = [];
    const params: (string | bigint)[] = [];
    const list = (column: string, values: string[]) => {
      const marks = values.map((v) => {
        params.push(v);
        return `$${params.length}`;
      });
      where.push(`${column} IN (${marks.join(', ')})`);
    };
    if (q.after !== null) {
      params.push(BigInt(q.after));
      where.push(`id > $${params.length}`);
    }
    if (q.actions) list('action', q.actions);
    if (q.actors) list('actor', q.actors);
    const order = q.after !== null ? 'ASC' : 'DESC';
    const rows = (
      await c.runAndReadAll(
        `SELECT id, ts, actor, address, action, target, outcome, code, detail FROM activity
         ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${order} LIMIT ${Math.trunc(q.limit)}`,
        params,
      )
    ).getRows();
    const events = rows.map(([id, ts, actor, address, action, target, outcome, code, detail]): ActivityRow => ({
      id: Number(id),
      ts: Number(ts),
      actor: String(actor),
      address: String(address),
      action: String(action) as ActivityRow['action'],
      target: String(target),
      outcome: String(outcome) as ActivityRow['outcome'],
      code: Number(code),
      detail: String(detail),
    }));
    return order === 'DESC' ? events.reverse() : events;
  } finally {
    c.closeSync();
  }
}
