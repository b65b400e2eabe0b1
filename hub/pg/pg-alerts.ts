/**
 * Alert rules and events in PostgreSQL: the calls of hub/store/alert-sql.ts, the same records.
 * Rules are shared by every hub. Each hub numbers its own events (from the largest of its own
 * at load); PostgreSQL keeps them under (hub, hub_id) with a cluster-wide id for queries.
 */
import type pg from 'pg';
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';
import type { AlertCall, AlertEventQuery, AlertsLoaded } from '../store/alert-sql.ts';
import { ALERT_RULES_CHANNEL } from './pg-history.ts';
import { Where } from './pg-where.ts';

/** a row as node-postgres returns it: checked field by field below */
type Row = Record<string, unknown>;

const COLUMNS = 'id, ts, rule, state, sensor, room, metric, value, condition';

function eventOf(r: Record<string, unknown>): AlertEvent {
  return {
    id: Number(r.id),
    ts: Number(r.ts),
    rule: String(r.rule),
    state: String(r.state) as AlertEvent['state'],
    sensor: String(r.sensor),
    room: String(r.room),
    metric: typeof r.metric === 'string' ? r.metric : null,
    value: r.value === null ? null : Number(r.value),
    condition: String(r.condition),
  };
}

export async function alertCall(c: pg.ClientBase, call: AlertCall, hub: string): Promise<unknown> {
  switch (call.kind) {
    case 'load':
      return load(c, hub);
    case 'append':
      return append(c, call.events, hub);
    case 'put-rule': {
      const r = call.rule;
      await changeRules(c, hub, () =>
        c.query(
          `INSERT INTO alert_rules VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET rule = excluded.rule,
           room = excluded.room, sensor = excluded.sensor, webhooks = excluded.webhooks, updated_at = excluded.updated_at`,
          [r.name, r.rule, r.room, r.sensor, JSON.stringify(r.webhooks), Math.trunc(r.updatedAt)],
        ),
      );
      return null;
    }
    case 'delete-rule':
      await changeRules(c, hub, () => c.query('DELETE FROM alert_rules WHERE name = $1', [call.name]));
      return null;
    case 'query':
      return query(c, call.query);
  }
}

/** A change of the rules and the notification that makes every other hub reload them, in one transaction. */
async function changeRules(c: pg.ClientBase, hub: string, change: () => Promise<unknown>): Promise<void> {
  await c.query('BEGIN');
  try {
    await change();
    await c.query('SELECT pg_notify($1, $2)', [ALERT_RULES_CHANNEL, hub]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function load(c: pg.ClientBase, hub: string): Promise<AlertsLoaded> {
  const rules = (await c.query<Row>('SELECT name, rule, room, sensor, webhooks, updated_at FROM alert_rules ORDER BY name')).rows.map(
    (r) => ({
      name: String(r.name),
      rule: String(r.rule),
      room: typeof r.room === 'string' ? r.room : null,
      sensor: typeof r.sensor === 'string' ? r.sensor : null,
      webhooks: JSON.parse(String(r.webhooks)) as string[],
      updatedAt: Number(r.updated_at),
    }),
  );
  // Per (rule, sensor), the newest event of any hub: a firing one is still firing.
  const firing = (
    await c.query<Row>(
      `SELECT ${COLUMNS} FROM alert_events WHERE id IN (SELECT max(id) FROM alert_events GROUP BY rule, sensor) AND state = 'firing' ORDER BY id`,
    )
  ).rows.map(eventOf);
  const maxId = (await c.query<{ m: number }>('SELECT coalesce(max(hub_id), 0) AS m FROM alert_events WHERE hub = $1', [hub])).rows[0]?.m;
  return { rules, firing, maxId: Number(maxId ?? 0) };
}

async function append(c: pg.ClientBase, events: AlertEvent[], hub: string): Promise<null> {
  if (events.length === 0) return null;
  await c.query(
    `INSERT INTO alert_events (hub, hub_id, ts, rule, state, sensor, room, metric, value, condition)
       SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[])
     ON CONFLICT (hub, hub_id) DO NOTHING`,
    [
      hub,
      events.map((e) => e.id),
      events.map((e) => Math.trunc(e.ts)),
      events.map((e) => e.rule),
      events.map((e) => e.state),
      events.map((e) => e.sensor),
      events.map((e) => e.room),
      events.map((e) => e.metric),
      events.map((e) => e.value),
      events.map((e) => e.condition),
    ],
  );
  return null;
}

async function query(c: pg.ClientBase, q: AlertEventQuery): Promise<AlertEvent[]> {
  const w = new Where();
  if (q.after !== null) w.add(`id > ${w.param(q.after)}`);
  if (q.rule !== null) w.add(`rule = ${w.param(q.rule)}`);
  if (q.sensor !== null) w.add(`sensor = ${w.param(q.sensor)}`);
  if (q.state !== null) w.add(`state = ${w.param(q.state)}`);
  if (q.rooms !== null) w.add(`room = ANY(${w.param(q.rooms)}::text[])`);
  const order = q.after !== null ? 'ASC' : 'DESC';
  const rows = await c.query<Row>(
    `SELECT ${COLUMNS} FROM alert_events ${w.sql} ORDER BY id ${order} LIMIT ${Math.trunc(q.limit)}`,
    w.params,
  );
  const events = rows.rows.map(eventOf);
  return order === 'DESC' ? events.reverse() : events;
}
