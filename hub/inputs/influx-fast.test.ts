// The fast reader of line protocol (no object per point) against the full parser: any line it
// takes must give the very values the full parser gives (the same doubles, the same ms), and
// any line it is not sure of must be left to the full parser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check, fuzzSeed } from '../../test/fuzz/fuzz-support.ts';
import { FastLines, fastReadable, fields } from './influx-fast.ts';
import { parseLine, type Precision } from './influx-line.ts';
import { metricName } from '../ingest/foreign-names.ts';

interface Seen {
  sensor: string;
  room: string | undefined;
  fields: [string, number][];
  tsMs: number | null;
}

/** What the fast reader made of `line`, or null if it left it to the full parser. */
function fastRead(reader: FastLines, line: string, precision: Precision): Seen | null {
  const info = reader.read(line, 0, line.length, precision);
  if (info === null) return null;
  const out: [string, number][] = [];
  for (let k = 0; k < fields.n; k++) out.push([reader.metric(info, line, k), fields.value[k]!]);
  return { sensor: info.sensor, room: info.room, fields: out, tsMs: Number.isNaN(fields.tsMs) ? null : fields.tsMs };
}

/** The same from the full parser (influx-write.ts's mapping), or null if the line is bad or not all numbers. */
function fullRead(line: string, precision: Precision): Seen | null {
  const r = parseLine(line, 0, line.length, precision);
  if (!r.ok) return null;
  const p = r.point;
  const tag = (k: string) => p.tags.find((t) => t.key === k)?.value;
  const sensor = tag('sensor') ?? tag('host');
  if (sensor === undefined) return null;
  const out: [string, number][] = [];
  for (const f of p.fields) {
    if (f.kind === 'string' || f.kind === 'boolean') return null;
    out.push([metricName(f.key === 'value' ? p.measurement : `${p.measurement}_${f.key}`), f.value]);
  }
  return { sensor, room: tag('room'), fields: out, tsMs: p.tsMs };
}

function same(a: Seen, b: Seen): boolean {
  return (
    a.sensor === b.sensor &&
    a.room === b.room &&
    a.tsMs === b.tsMs &&
    a.fields.length === b.fields.length &&
    a.fields.every(([m, v], i) => m === b.fields[i]![0] && Object.is(v, b.fields[i]![1]))
  );
}

test('the common lines are read fast, with the values the full parser gives', () => {
  const reader = new FastLines();
  const lines: [string, Precision][] = [
    ['temperature,sensor=bench-0001,room=room-1 value=22.35 1764000000123', 'ms'],
    ['cpu,host=web-1 usage_idle=97.5,usage_user=-0.25 1700000000123456789', 'ns'],
    ['cpu,host=web-1 usage_idle=97.5,usage_user=-0.25 1700000000123456789', 'ns'],
    ['disk,host=a,path=/ used=.5,free=1. 1700000000123456', 'us'],
    ['m,sensor=s value=-0 1700000000', 's'],
    ['m,sensor=s value=123456789012345 27000000', 'm'],
    ['m,sensor=s value=0.00000000000001', 'ns'],
  ];
  for (const [line, precision] of lines) {
    const f = fastRead(reader, line, precision);
    const full = fullRead(line, precision);
    assert.ok(f, `read fast: ${line}`);
    assert.ok(full && same(f, full), `${line}: fast ${JSON.stringify(f)}, full ${JSON.stringify(full)}`);
  }
});

test('lines the fast reader is not sure of go the full way', () => {
  const reader = new FastLines();
  for (const line of [
    'm,sensor=s value=1i 1',
    'm,sensor=s value=1e3 1',
    'm,sensor=s value=true 1',
    'm,sensor=s value=1.2.3 1',
    'm,sensor=s value=- 1',
    'm,sensor=s value=1234567890123456 1',
    'm,sensor=s value=1 -5',
    'm,sensor=s value=1 9234567890123456789',
    'm,sensor=s value=1 12345678901234567890',
    'm,sensor=s value=1 12x',
    'm,sensor=s value=1 1 extra',
    'm,sensor=s,sensor=t value=1',
    'm,sensor=s=t value=1',
    'm,sensor= value=1',
    'm,=s value=1',
    'm, value=1',
    'm,room=r value=1',
    'm,sensor=s value=1,',
    'm,sensor=s value=1, x=2',
    'm,sensor=s  =1',
    'm,sensor=s',
    ',sensor=s value=1',
  ])
    assert.is(reader.read(line, 0, line.length, 'ns'), null, line);
  assert.not.ok(fastReadable('m,sensor=s text="a" 1'), 'a string field: the full parser');
  assert.not.ok(fastReadable('m,sensor=a\\ b value=1 1'), 'an escape: the full parser');
});

test('the series keys kept are bounded in number and length', () => {
  const reader = new FastLines();
  for (let i = 0; i < 25_000; i++) {
    const line = `m,sensor=s${i} value=1 1`;
    assert.ok(reader.read(line, 0, line.length, 'ms'));
  }
  assert.ok(reader.keyCount <= 20_000, `${reader.keyCount} keys kept`);
  const long = `m,sensor=s,tag=${'x'.repeat(300)}`;
  const before = reader.keyCount;
  const line = `${long} ${'f'.repeat(100)}=2 1`;
  const info = reader.read(line, 0, line.length, 'ms');
  assert.ok(info, 'a long key is still read');
  assert.is(reader.metric(info, line, 0), metricName(`m_${'f'.repeat(100)}`));
  assert.is(reader.keyCount, before, 'but not kept');
  assert.is(info.metrics.size, 0, 'nor its long field name');
});

test('any line: what the fast reader takes, the full parser reads the same', async () => {
  const piece = (xs: string[]) => fc.constantFrom(...xs);
  const digits = fc.stringMatching(/^[0-9]{1,17}$/);
  const number = fc.oneof(
    fc.tuple(piece(['', '-']), digits, piece(['', '.']), fc.stringMatching(/^[0-9]{0,8}$/)).map((p) => p.join('')),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    piece(['1i', '7u', 't', 'false', '1e5', '-.5', '.', '-', '1.5e-3', '00.10', '-0.0']),
  );
  const tags = fc.array(fc.tuple(piece(['sensor', 'host', 'room', 'x', '']), piece(['a', 'b', 'r-1', '', 'c=d'])), { maxLength: 4 });
  const fieldsArb = fc.array(fc.tuple(piece(['value', 'v', 'usage_idle', '']), number), { minLength: 1, maxLength: 4 });
  const ts = fc.oneof(digits, piece(['', '-1', '1x', '1700000000123456789', '9223372036854775808']));
  const precision = piece(['ns', 'us', 'ms', 's', 'm', 'h']) as fc.Arbitrary<Precision>;
  const line = fc
    .tuple(piece(['cpu', 'temperature', 'Disk.IO', 'm=x', '']), tags, fieldsArb, ts, piece([' ', '  ']))
    .map(
      ([m, t, f, stamp, sp]) =>
        `${m}${t.map(([k, v]) => `,${k}=${v}`).join('')}${sp}${f.map(([k, v]) => `${k}=${v}`).join(',')}${stamp === '' ? '' : ` ${stamp}`}`,
    );
  await check(
    'fast line reader against the full parser',
    fc.property(line, precision, (l, p) => {
      const reader = new FastLines();
      const f = fastRead(reader, l, p);
      if (f === null) return true;
      const full = fullRead(l, p);
      return full !== null && same(f, full);
    }),
    { seed: fuzzSeed(2026_12_07), numRuns: 3000 },
  );
});

test.run();
