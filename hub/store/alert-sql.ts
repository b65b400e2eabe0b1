/**
 * The store worker's side of alerts: rules and the event log (tables alert_rules and
 * alert_events in schema.ts). Statements take parameters; nothing a user typed is pasted into SQL.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';
import type { AlertRuleRecord } from '../alerts/alert-rule.ts';

export interface AlertEventQuery {
  after: number | null;
  limit: number;
  rule: string | null;
  sensor: string | null;
  /** only these rooms (the asker's, or the one asked for); null: every room */
  rooms: string[] | null;
  state: 'firing' | 'cleared' | null;
}

export interface AlertsLoaded {
  rules: AlertRuleRecord[];
  /** per (rule, sensor) whose newest event is a firing: that event */
  firing: AlertEvent[];
  maxId: number;
}

export type AlertCall =
  | { kind: 'load' }
  | { kind: 'append'; events: AlertEvent[] }
  | { kind: 'put-rule'; rule: AlertRuleRecord }
  | { kind: 'delete-rule'; name: string }
  | { kind: 'query'; query: AlertEventQuery };

const COLUMNS = 'id, ts, rule, state, sensor, room, metric, value, condition';

function eventOf(row: unknown[]): AlertEvent {
  const [id, ts, rule, state, sensor, room, metric, value, condition] = row;
  return {
    id: Number(id),
    ts: Number(ts),
    rule: String(rule),
    state: String(state) as AlertEvent['state'],
    sensor: String(sensor),
    room: String(room),
    metric: typeof metric === 'string' ? metric : null,
    value: value === null ? null : Number(value),
    condition: String(condition),
  };
}

export async function alertCall(c: DuckDBConnection, call: AlertCall): Promise<unknown> {
  switch (call.kind) {
    case 'load':
      return load(c);
    case 'append':
      return append(c, call.events);
    case 'put-rule': {
      const r = call.rule;
      await c.run('INSERT OR REPLACE INTO alert_rules VALUES ($1, $2, $3, $4, $5, $6)', [
        r.name,
        r.rule,
        r.room,
        r.sensor,
        JSON.stringify(r.webhooks),
        BigInt(Math.trunc(r.updatedAt)),
      ]);
      return null;
    }
    case 'delete-rule':
      await c.run('DELETE FROM alert_rules WHERE name = $1', [call.name]);
      return null;
    case 'query':
      return query(c, call.query);
  }
}

async function load(c: DuckDBConnection): Promise<AlertsLoaded> {
  const rules = (await c.runAndReadAll('SELECT name, rule, room, sensor, webhooks, updated_at FROM alert_rules ORDER BY name'))
    .getRows()
    .map(([name, rule, room, sensor, webhooks, updatedAt]) => ({
      name: String(name),
      rule: String(rule),
      room: room === null ? null : String(room),
      sensor: sensor === null ? null : String(sensor),
      webhooks: JSON.parse(String(webhooks)) as string[],
      updatedAt: Number(updatedAt),
    }));
  const firing = (
    await c.runAndReadAll(
      `SELECT ${COLUMNS} FROM alert_events WHERE id IN (SELECT max(id) FROM alert_events GROUP BY rule, sensor) AND state = 'firing' ORDER BY id`,
    )
  )
    .getRows()
    .map(eventOf);
  const maxId = Number((await c.runAndReadAll('SELECT coalesce(max(id), 0) FROM alert_events')).getRows()[0]?.[0] ?? 0);
  return { rules, firing, maxId };
}

/** In one transaction; a retry of a batch stored after all adds nothing (an id is one event). */
async function append(c: DuckDBConnection, events: AlertEvent[]): Promise<null> {
  if (events.length === 0) return null;
  await c.run('BEGIN TRANSACTION');
  try {
    for (const e of events) {
      await c.run(`INSERT OR IGNORE INTO alert_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        BigInt(e.id),
        BigInt(Math.trunc(e.ts)),
        e.rule,
        e.state,
        e.sensor,
        e.room,
        e.metric,
        e.value,
        e.condition,
      ]);
    }
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  }
  return null;
}

async function query(c: DuckDBConnection, q: AlertEventQuery): Promise<AlertEvent[]> {
  const where: string[] = [];
  const params: (string | bigint)[] = [];
  const param = (v: string | bigint) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.after !== null) where.push(`id > ${param(BigInt(q.after))}`);
  if (q.rule !== null) where.push(`rule = ${param(q.rule)}`);
  if (q.sensor !== null) where.push(`sensor = ${param(q.sensor)}`);
  if (q.state !== null) where.push(`state = ${param(q.state)}`);
  if (q.rooms !== null) where.push(q.rooms.length === 0 ? 'false' : `room IN (${q.rooms.map((r) => param(r)).join(', ')})`);
  const order = q.after !== null ? 'ASC' : 'DESC';
  const rows = (
    await c.runAndReadAll(
      `SELECT ${COLUMNS} FROM alert_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${order} LIMIT ${Math.trunc(q.limit)}`,
      params,
    )
  ).getRows();
  const events = rows.map(eventOf);
  return order === 'DESC' ? events.reverse() : events;
}
