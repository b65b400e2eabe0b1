/**
 * The session fuzz's steps (what one sensor connection sends next) and the driver that plays them
 * against a hub: each line is followed by a ping, so the errors that arrive before its pong are
 * that line's answer (the hub handles a connection's lines in order). Pools of names mix valid
 * ones, names of Object.prototype, and names the contract refuses.
 */
import fc from 'fast-check';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import type { Teardown } from '../support/teardown.ts';
import { CONTRACT_METRIC } from './fuzz-support.ts';
import type { ConnRecord, SentReading, SessionModel } from './session-model.ts';

const WELL_KNOWN = new Map([
  ['temperature', 'C'],
  ['humidity', '%'],
  ['cpu_load', '%'],
]);
const SENSORS = ['fz-a', 'fz-b', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__proto__'];
const ROOMS = [undefined, 'lab', 'constructor', 'toString', 'prototype', '__proto__'];
const METRICS = [
  'temperature',
  'humidity',
  'pressure',
  'constructor',
  'prototype',
  'to_string',
  'has_own_property',
  'value_of',
  '__proto__',
  'toString',
  'hasOwnProperty',
];
const UNITS = ['C', 'hPa', '', 'constructor', 'toString', '__proto__', 'x'.repeat(17)];
/** Readings with ts take it from a few fixed instants, so identities repeat across lines, sensors and runs. */
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const SLOTS = 3;

// ---------------------------------------------------------------- steps

/** Mostly what a sensor would send, often enough what it should not. */
const mostly = <T>(good: readonly T[], bad: readonly T[], badWeight = 1) =>
  fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...good) }, { weight: badWeight, arbitrary: fc.constantFrom(...bad) });
const metricArb = mostly(
  METRICS.filter((m) => CONTRACT_METRIC.test(m)),
  METRICS.filter((m) => !CONTRACT_METRIC.test(m)),
);
const sensorArb = mostly(SENSORS.slice(0, -1), SENSORS.slice(-1));
const roomArb = mostly(ROOMS.slice(0, -1), ROOMS.slice(-1));
const unitArb = fc.option(mostly(UNITS.slice(0, -1), UNITS.slice(-1)), { nil: undefined, freq: 2 });
const tsChoice = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 7 }).map((k) => ({ kind: 'at' as const, k })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'old' as const }, { kind: 'future' as const }, { kind: 'fraction' as const }) },
);
const seqChoice = mostly(['next', 'next', 'next', 'skip', 'none'], ['same', 'down', 'negative', 'fraction', 'string'], 2);
const readingSpec = fc.record({ metric: metricArb, unit: unitArb, ts: tsChoice });
const declaration = fc.uniqueArray(
  fc.record({ metric: metricArb, unit: fc.option(fc.constantFrom(...UNITS.slice(0, 4)), { nil: undefined }) }),
  {
    selector: (d) => d.metric,
    maxLength: 3,
  },
);
const helloArb = fc.record({
  type: fc.constant('hello' as const),
  sensor: sensorArb,
  room: roomArb,
  metrics: fc.option(declaration, { nil: undefined }),
  v: mostly([1], [2]),
});

export const step = fc.record({
  slot: fc.integer({ min: 0, max: SLOTS - 1 }),
  /** said first when this step opens a new connection (a sensor that connects says hello) */
  hello: fc.option(helloArb, { nil: undefined, freq: 5 }),
  action: fc.oneof(
    { weight: 1, arbitrary: helloArb },
    { weight: 6, arbitrary: fc.record({ type: fc.constant('reading' as const), reading: readingSpec, seq: seqChoice }) },
    {
      weight: 3,
      arbitrary: fc.record({ type: fc.constant('batch' as const), readings: fc.array(readingSpec, { maxLength: 4 }), seq: seqChoice }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('report' as const),
        id: fc.constantFrom('c-1', 'constructor', '__proto__'),
        readings: fc.array(readingSpec, { minLength: 1, maxLength: 2 }),
        seq: seqChoice,
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: 'ping' as const }) },
    { weight: 1, arbitrary: fc.constant({ type: 'bye' as const }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('junk' as const), text: fc.string({ maxLength: 30, unit: 'binary' }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('unknown' as const),
        name: fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype'),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: 'drop' as const }) },
  ),
});
export type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;
type ReadingSpec = typeof readingSpec extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------- the driver

interface Slot {
  sensor: TcpSensor;
  conn: ConnRecord;
  /** who this connection speaks for, once welcomed */
  id: string | null;
  room: string;
  declared: Map<string, string>;
  lastSeq: number;
}

/** Every connection the drivers opened, to read their acks from. */
export class Sockets {
  readonly all: { sensor: TcpSensor; conn: ConnRecord }[] = [];

  /** Notes in each connection's record the highest ack it got. */
  updateAcks(): void {
    for (const { sensor, conn } of this.all)
      for (const m of sensor.received) if (m.type === 'ack' && typeof m.seq === 'number' && m.seq > conn.maxAck) conn.maxAck = m.seq;
  }
}

/** Plays steps on up to SLOTS connections to one hub, recording each line and its answers in `model`. */
export class Driver {
  private readonly slots: (Slot | null)[] = Array.from({ length: SLOTS }, () => null);
  constructor(
    private readonly tcpPort: number,
    private readonly model: SessionModel,
    private readonly sockets: Sockets,
    private readonly scope: Teardown,
  ) {}

  /** The slot's connection, opened if need be; `hello` is said first on a connection not yet welcomed. */
  private async slot(i: number, hello: Step['hello']): Promise<Slot> {
    const open = this.slots[i];
    if (open && !open.sensor.isClosed && (open.id !== null || hello === undefined)) return open;
    if (hello !== undefined) {
      await this.run({ slot: i, hello: undefined, action: hello });
      return this.slot(i, undefined);
    }
    const sensor = await connect(this.tcpPort, '127.0.0.1', this.scope);
    const conn = this.model.newConn();
    this.sockets.all.push({ sensor, conn });
    const s: Slot = { sensor, conn, id: null, room: 'default', declared: new Map(), lastSeq: -1 };
    this.slots[i] = s;
    return s;
  }

  private seq(s: Slot, choice: string): unknown {
    switch (choice) {
      case 'next':
        return s.lastSeq + 1;
      case 'skip':
        return s.lastSeq + 3;
      case 'same':
        return Math.max(0, s.lastSeq);
      case 'down':
        return Math.max(0, s.lastSeq - 1);
      case 'negative':
        return -1;
      case 'fraction':
        return s.lastSeq + 1.5;
      case 'string':
        return String(s.lastSeq + 1);
      default:
        return undefined;
    }
  }

  private reading(s: Slot, spec: ReadingSpec): { wire: Record<string, unknown>; sent: SentReading } {
    const value = this.model.value();
    const ts =
      spec.ts.kind === 'at'
        ? BASE_TS + spec.ts.k * 1000
        : spec.ts.kind === 'old'
          ? 946_684_799_999
          : spec.ts.kind === 'future'
            ? Date.now() + 25 * 3600_000
            : spec.ts.kind === 'fraction'
              ? BASE_TS + 0.5
              : undefined;
    const wire: Record<string, unknown> = { metric: spec.metric, value };
    if (spec.unit !== undefined) wire.unit = spec.unit;
    if (ts !== undefined) wire.ts = ts;
    const unit = spec.unit ?? s.declared.get(spec.metric) ?? WELL_KNOWN.get(spec.metric) ?? '';
    return { wire, sent: { sensor: s.id ?? '?', room: s.room, metric: spec.metric, unit, ts, value } };
  }

  /** Sends one step's line, then a ping, and attributes the errors before the pong to the line. */
  async run(st: Step): Promise<void> {
    const s = await this.slot(st.slot, st.action.type === 'hello' ? undefined : st.hello);
    const a = st.action;
    if (a.type === 'drop') {
      s.sensor.socket.destroy();
      await s.sensor.closed();
      return;
    }
    let line: string;
    let seq: unknown;
    let readings: SentReading[] = [];
    switch (a.type) {
      case 'hello': {
        const hello: Record<string, unknown> = { type: 'hello', v: a.v, sensor: a.sensor };
        if (a.room !== undefined) hello.room = a.room;
        if (a.metrics !== undefined) hello.metrics = a.metrics;
        line = JSON.stringify(hello);
        break;
      }
      case 'reading': {
        seq = this.seq(s, a.seq);
        const r = this.reading(s, a.reading);
        readings = [r.sent];
        line = JSON.stringify({ type: 'reading', ...r.wire, ...(seq === undefined ? {} : { seq }) });
        break;
      }
      case 'batch':
      case 'report': {
        seq = this.seq(s, a.seq);
        const rs = a.readings.map((spec) => this.reading(s, spec));
        readings = rs.map((r) => r.sent);
        line = JSON.stringify({
          type: a.type,
          ...(a.type === 'report' ? { id: a.id } : {}),
          readings: rs.map((r) => r.wire),
          ...(seq === undefined ? {} : { seq }),
        });
        break;
      }
      case 'ping':
        line = JSON.stringify({ type: 'ping', id: 'step' });
        break;
      case 'bye':
        line = '{"type":"bye"}';
        break;
      case 'junk':
        line = a.text.replace(/[\n]/g, ' ');
        break;
      case 'unknown':
        line = JSON.stringify({ type: a.name, seq: s.lastSeq + 1 });
        break;
    }
    const validSeq = typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 ? seq : undefined;
    if (validSeq !== undefined && validSeq > s.conn.maxSeqSent) s.conn.maxSeqSent = validSeq;
    if (typeof seq === 'number' && Number.isInteger(seq) && seq > s.lastSeq) s.lastSeq = seq;
    const from = s.sensor.received.length;
    const sentAt = Date.now();
    await s.sensor.sendRaw(line + '\n');
    // A pong says the hub handled the line; after a bye it answers nothing more and closes.
    let handled = true;
    try {
      await s.sensor.sync();
    } catch (err) {
      if (!s.sensor.isClosed) throw err; // the hub did not answer a ping on an open connection
      handled = a.type === 'bye';
    }
    const answeredAt = Date.now();
    const replies = s.sensor.received.slice(from);
    const errors = replies.filter((m) => m.type === 'error').map((m) => m.code as number);
    if (a.type === 'bye' && s.sensor.isClosed && errors.length === 0) s.conn.byeClosed = true;
    if (a.type === 'hello' && replies.some((m) => m.type === 'welcome')) {
      s.id = a.sensor;
      s.room = a.room ?? 'default';
      s.declared = new Map((a.metrics ?? []).map((d) => [d.metric, d.unit ?? WELL_KNOWN.get(d.metric) ?? '']));
    }
    this.model.record({ conn: s.conn.id, line, seq: validSeq, readings, errors, handled, sentAt, answeredAt });
  }

  /** Ends every open connection with bye, as a sensor that stops would. */
  async finish(): Promise<void> {
    for (let i = 0; i < SLOTS; i++) {
      const s = this.slots[i];
      if (s && !s.sensor.isClosed) await this.run({ slot: i, hello: undefined, action: { type: 'bye' } });
    }
  }
}
