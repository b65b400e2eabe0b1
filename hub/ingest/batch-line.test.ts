// The sensor port's fast path (batch-line.ts) against the general one (JSON.parse and
// protocol/decode.ts), PROTOCOL.md §1 "Sensor to hub" and "Names and values": whatever line it
// takes, the general path takes too, with the same seq, metrics, values (to the bit: -0 too)
// and ts; lines of other shapes, or that break a rule, it leaves to the general path.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSensorLine } from '../../protocol/decode.ts';
import type { ReadingInput } from '../../protocol/messages.ts';
import { MAX_BATCH_READINGS, MAX_FUTURE_MS, MIN_TS_MS } from '../../protocol/names.ts';
import { scanLine, scannedLine, type ScannedLine } from './batch-line.ts';

const NOW = Date.UTC(2026, 0, 15, 12);
const out = scannedLine();

/** What the general path makes of the line, in the fast path's terms; null if it refuses it or it is not a reading or batch. */
function general(line: string): { single: boolean; seq: number; readings: ReadingInput[] } | null {
  const d = decodeSensorLine(line, NOW);
  if (!d.ok) return null;
  const m = d.message;
  if (m.type === 'batch') return { single: false, seq: m.seq ?? -1, readings: m.readings };
  if (m.type === 'reading')
    return { single: true, seq: m.seq ?? -1, readings: [{ metric: m.metric, value: m.value, ts: m.ts, unit: m.unit }] };
  return null;
}

function assertSame(line: string, s: ScannedLine): void {
  const g = general(line);
  assert.ok(g !== null, `the fast path took a line the general path refuses: ${line.slice(0, 200)}`);
  assert.is(s.single, g.single, line);
  assert.is(s.seq, g.seq, line);
  assert.is(s.n, g.readings.length, line);
  for (let i = 0; i < s.n; i++) {
    const r = g.readings[i]!;
    assert.is(r.unit, undefined, line);
    assert.is(s.metric[i], r.metric, line);
    assert.ok(Object.is(s.value[i], r.value), `value ${i}: ${s.value[i]} against ${r.value} in ${line.slice(0, 200)}`);
    assert.ok(Object.is(Number.isNaN(s.ts[i]) ? undefined : s.ts[i], r.ts), `ts ${i} in ${line.slice(0, 200)}`);
  }
}

test('the lines the bench and the simulator send are taken, with what JSON.parse reads', () => {
  const lines = [
    `{"type":"batch","seq":7,"readings":[{"metric":"temperature","value":22.45,"ts":${NOW}},{"metric":"humidity","value":45.1,"ts":${NOW}},{"metric":"cpu_load","value":-0,"ts":${NOW}}]}`,
    `{"type":"batch","readings":[{"metric":"temperature","value":0.1}]}`,
    `{"type":"reading","metric":"temperature","value":21.5,"ts":${NOW},"seq":12}`,
    `{"type":"reading","metric":"t","value":-3}`,
    `{"type":"reading","metric":"t","value":0,"seq":0}`,
  ];
  for (const line of lines) {
    assert.ok(scanLine(line, NOW, out), line);
    assertSame(line, out);
  }
});

test('other shapes and lines that break a rule are left to the general path', () => {
  const r = (fields: string) => `{"type":"batch","seq":1,"readings":[{${fields}}]}`;
  const lines = [
    r(`"metric":"t","value":1,"unit":"C"`), // a unit
    r(`"value":1,"metric":"t"`), // another order
    r(`"metric":"t", "value":1`), // a space
    r(`"metric":"T","value":1`), // a name against the rule
    r(`"metric":"t\\u0065","value":1`), // an escape
    r(`"metric":"${'m'.repeat(65)}","value":1`), // a name too long
    r(`"metric":"t","value":1e3`), // an exponent
    r(`"metric":"t","value":1234567890123456`), // 16 digits
    r(`"metric":"t","value":01`), // not JSON
    r(`"metric":"t","value":1.`),
    r(`"metric":"t","value":-`),
    r(`"metric":"t","value":1,"ts":${MIN_TS_MS - 1}`), // before 2000
    r(`"metric":"t","value":1,"ts":${NOW + MAX_FUTURE_MS + 1}`), // a day ahead
    r(`"metric":"t","value":1,"ts":${NOW}.5`),
    `{"type":"batch","seq":1,"readings":[]}`,
    `{"type":"batch","seq":-1,"readings":[{"metric":"t","value":1}]}`,
    `{"type":"batch","seq":1.5,"readings":[{"metric":"t","value":1}]}`,
    `{"type":"batch","readings":[{"metric":"t","value":1}],"seq":1}`,
    `{"type":"batch","seq":1,"readings":[{"metric":"t","value":1}]} `,
    `{"type":"batch","seq":1,"readings":[{"metric":"t","value":1}]}}`,
    `{"type":"reading","metric":"t","value":1,"seq":1,"seq":2}`,
    `{"type":"report","id":"c-1","readings":[{"metric":"t","value":1}]}`,
  ];
  for (const line of lines) assert.not.ok(scanLine(line, NOW, out), line);
  const many = Array.from({ length: MAX_BATCH_READINGS + 1 }, () => '{"metric":"t","value":1}').join(',');
  assert.not.ok(scanLine(`{"type":"batch","readings":[${many}]}`, NOW, out), 'more readings than a batch may hold');
});

test('any batch or reading line: the fast path takes it only as the general path reads it', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 18 });
  const wild = fc.oneof(
    fc.double().filter(Number.isFinite).map(String),
    fc.tuple(fc.constantFrom('', '-'), digits, fc.constantFrom('', '.'), digits, fc.constantFrom('', 'e2', 'E-1')).map((p) => p.join('')),
  );
  const plain = fc
    .tuple(
      fc.constantFrom('', '-'),
      fc.oneof(fc.constant('0'), fc.nat().map(String)),
      fc.oneof(
        fc.constant(''),
        digits.map((d) => `.${d}`),
      ),
    )
    .map((p) => p.join(''));
  const number = fc.oneof({ arbitrary: plain, weight: 4 }, { arbitrary: wild, weight: 1 });
  const name = fc.oneof(
    { arbitrary: fc.constantFrom('temperature', 'humidity', 'cpu_load', 'x', 'a_1', 'm'.repeat(64)), weight: 4 },
    { arbitrary: fc.string({ maxLength: 70 }), weight: 1 },
  );
  const ts = fc.oneof(
    fc.constant(''),
    fc.integer({ min: MIN_TS_MS - 10, max: NOW + MAX_FUTURE_MS + 10 }).map((t) => `,"ts":${t}`),
    number.map((t) => `,"ts":${t}`),
  );
  const element = fc.tuple(name, number, ts).map(([m, v, t]) => `{"metric":${JSON.stringify(m)},"value":${v}${t}}`);
  const seq = fc.oneof(
    fc.constant(''),
    number.map((s) => `"seq":${s},`),
  );
  const batch = fc.tuple(seq, fc.array(element, { maxLength: 5 })).map(([s, els]) => `{"type":"batch",${s}"readings":[${els.join(',')}]}`);
  const reading = fc
    .tuple(
      element,
      fc.oneof(
        fc.constant(''),
        number.map((s) => `,"seq":${s}`),
      ),
    )
    .map(([el, s]) => `{"type":"reading",${el.slice(1, -1)}${s}}`);
  let taken = 0;
  fc.assert(
    fc.property(fc.oneof(batch, reading), (line) => {
      if (!scanLine(line, NOW, out)) return;
      taken++;
      assertSame(line, out);
    }),
    { numRuns: 5_000 },
  );
  // The property proves something only if the fast path takes a fair share of the lines.
  assert.ok(taken > 500, `the fast path took only ${taken} of 5,000 lines`);
});

test.run();
