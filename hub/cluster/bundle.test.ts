import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBundle, encodeBundle, lateFromOf, type ReadingBundle } from './bundle.ts';
import { ClusterError } from './cluster-error.ts';

function sample(n = 3): ReadingBundle {
  const seriesIndex = new Int32Array(n);
  const ts = new Float64Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    seriesIndex[i] = i % 2;
    ts[i] = 1_700_000_000_000 + i;
    value[i] = i * 0.5 - 3.25;
  }
  return {
    hub: 'hub-a',
    gen: 42,
    partition: 7,
    series: [
      { sensor: 's-1', room: 'kitchen', metric: 'temperature', unit: 'C' },
      { sensor: 'capteur-é', room: 'salle 2', metric: 'humidity', unit: '%' },
    ],
    n,
    seriesIndex,
    ts,
    value,
    sensors: [
      {
        sensor: 's-1',
        room: 'kitchen',
        firstSeen: 1,
        lastSeen: 2,
        address: '127.0.0.1:5000',
        declaredMetrics: JSON.parse('{"temperature":"C","__proto__":"x"}') as Record<string, string>,
      },
      { sensor: 'capteur-é', room: 'salle 2', firstSeen: 3, lastSeen: 4, address: null, declaredMetrics: {}, lastSeenOnly: true },
    ],
  };
}

function throwsBadBundle(bytes: Uint8Array, why: RegExp): void {
  try {
    decodeBundle(bytes);
  } catch (e) {
    assert.instance(e, ClusterError);
    assert.is((e as ClusterError).code, 'bad_bundle');
    assert.is((e as ClusterError).retryable, false);
    assert.match((e as Error).message, why);
    return;
  }
  assert.unreachable(`decoded bad bytes (${why})`);
}

test('a bundle decodes to the rows, names and registry rows it was made of', () => {
  const b = sample(5);
  const back = decodeBundle(encodeBundle(b));
  assert.is(back.hub, 'hub-a');
  assert.is(back.gen, 42);
  assert.is(back.partition, 7);
  assert.is(back.n, 5);
  assert.equal(Array.from(back.seriesIndex), [0, 1, 0, 1, 0]);
  assert.equal(Array.from(back.ts), Array.from(b.ts));
  assert.equal(Array.from(back.value), Array.from(b.value));
  assert.equal(back.series, b.series);
  assert.equal(back.sensors, b.sensors);
  assert.ok(Object.hasOwn(back.sensors[0]!.declaredMetrics, '__proto__'), 'a metric named __proto__ stays data');
});

test('columns longer than n and views into a larger buffer encode only the n rows', () => {
  const big = new Float64Array(20).fill(9);
  const b = { ...sample(2), ts: big.subarray(3, 10), value: big.subarray(1, 8) };
  const back = decodeBundle(encodeBundle(b));
  assert.is(back.n, 2);
  assert.equal(Array.from(back.ts), [9, 9]);
  assert.is(back.ts.length, 2);
});

test('an empty bundle (only registry rows) and a bundle read from an unaligned offset decode', () => {
  const b = { ...sample(0) };
  const bytes = encodeBundle(b);
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const back = decodeBundle(shifted.subarray(3));
  assert.is(back.n, 0);
  assert.is(back.sensors.length, 2);
  const rows = encodeBundle(sample(4));
  const odd = new Uint8Array(rows.length + 1);
  odd.set(rows, 1);
  assert.equal(Array.from(decodeBundle(odd.subarray(1)).ts), Array.from(sample(4).ts));
});

test('the columns decoded are copies: changing the message bytes later leaves them alone', () => {
  const bytes = encodeBundle(sample(2));
  const back = decodeBundle(bytes);
  bytes.fill(0, 32, 48);
  assert.is(back.ts[0], 1_700_000_000_000);
});

test('bad bytes are refused with a ClusterError that says why', () => {
  const good = encodeBundle(sample(3));
  throwsBadBundle(new Uint8Array(0), /shorter than the header/);
  throwsBadBundle(new TextEncoder().encode('{"hub":"a","series":[],"sensors":[]} padding to 32+ bytes'), /magic/);
  const version = good.slice();
  version[3] = 9;
  throwsBadBundle(version, /version 9/);
  throwsBadBundle(good.subarray(0, good.length - 1), /do not make/);
  const longer = new Uint8Array(good.length + 8);
  longer.set(good);
  throwsBadBundle(longer, /do not make/);
  const partition = good.slice();
  new DataView(partition.buffer).setUint32(16, 16, true);
  throwsBadBundle(partition, /partition 16/);
  const rows = good.slice();
  new DataView(rows.buffer).setUint32(20, 0xffffffff, true);
  throwsBadBundle(rows, /do not make/);
  const gen = good.slice();
  new DataView(gen.buffer).setFloat64(8, Number.NaN, true);
  throwsBadBundle(gen, /gen NaN/);
});

test('a row naming a series the bundle does not list, a ts that is not finite, or broken names are refused', () => {
  const index = encodeBundle(sample(3));
  new DataView(index.buffer).setInt32(32 + 3 * 16 + 4, 2, true);
  throwsBadBundle(index, /row 1 names series 2 of 2/);
  const negative = encodeBundle(sample(3));
  new DataView(negative.buffer).setInt32(32 + 3 * 16, -1, true);
  throwsBadBundle(negative, /row 0 names series -1/);
  const ts = encodeBundle(sample(3));
  new DataView(ts.buffer).setFloat64(32 + 8, Number.POSITIVE_INFINITY, true);
  throwsBadBundle(ts, /row 1 has ts Infinity/);
  const json = encodeBundle(sample(1));
  json[json.length - 1] = 0x7b; // the closing brace of the JSON
  throwsBadBundle(json, /not UTF-8 JSON/);
  const utf = encodeBundle(sample(1));
  utf[32 + 20 + 2] = 0xff; // inside '{"hub"...': not UTF-8
  throwsBadBundle(utf, /not UTF-8 JSON/);
});

test('names of the wrong shape are refused', () => {
  const withMeta = (meta: unknown): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(meta));
    const bytes = new Uint8Array(32 + json.length);
    bytes.set([0x52, 0x57, 0x42, 1]);
    new DataView(bytes.buffer).setUint32(24, json.length, true);
    bytes.set(json, 32);
    return bytes;
  };
  assert.is(decodeBundle(withMeta({ hub: 'h', series: [], sensors: [] })).hub, 'h');
  throwsBadBundle(withMeta([1, 2]), /no hub id/);
  throwsBadBundle(withMeta({ hub: '', series: [], sensors: [] }), /no hub id/);
  throwsBadBundle(withMeta({ hub: 'h', series: {}, sensors: [] }), /no series/);
  throwsBadBundle(withMeta({ hub: 'h', series: [['a', 'b', 'c']], sensors: [] }), /series 0 is not 4 names/);
  throwsBadBundle(withMeta({ hub: 'h', series: [['a', 'b', 'c', 4]], sensors: [] }), /series 0/);
  const row = { sensor: 's', room: 'r', firstSeen: 1, lastSeen: 2, address: null, declaredMetrics: {} };
  assert.is(decodeBundle(withMeta({ hub: 'h', series: [], sensors: [row] })).sensors.length, 1);
  for (const broken of [{ ...row, address: 5 }, { ...row, declaredMetrics: { t: 1 } }, { ...row, lastSeenOnly: false }, null]) {
    throwsBadBundle(withMeta({ hub: 'h', series: [], sensors: [broken] }), /sensor row 0 is malformed/);
  }
});

test('10,000 readings make a bundle of 20 bytes a reading plus the names', () => {
  const b = sample(10_000);
  const bytes = encodeBundle(b);
  assert.ok(bytes.length < 32 + 10_000 * 20 + 400, `${bytes.length} bytes`);
  assert.is(decodeBundle(bytes).value[9_999], b.value[9_999]);
});

test('encoding refuses columns shorter than n', () => {
  assert.throws(() => encodeBundle({ ...sample(3), n: 4 }), /shorter columns/);
});

test('late rows: a bundle with none encodes without the mark (as before); the mark round-trips; a bad mark is refused', () => {
  const plain = sample(4);
  assert.not.ok(new TextDecoder().decode(encodeBundle(plain)).includes('"late"'), 'no late rows: no mark, bytes as before');
  assert.is(decodeBundle(encodeBundle(plain)).lateFrom, undefined);
  assert.is(lateFromOf(decodeBundle(encodeBundle(plain))), 4, 'none late');
  assert.is(decodeBundle(encodeBundle({ ...plain, lateFrom: 4 })).lateFrom, undefined, 'a mark at n marks nothing');
  const marked = decodeBundle(encodeBundle({ ...plain, lateFrom: 1 }));
  assert.is(marked.lateFrom, 1);
  assert.is(lateFromOf(marked), 1);
  assert.is(decodeBundle(encodeBundle({ ...plain, lateFrom: 0 })).lateFrom, 0, 'every row late');
  const meta = (late: unknown): Uint8Array => {
    const b = sample(2);
    const bytes = encodeBundle(b);
    const text = JSON.stringify({ hub: 'hub-a', series: [['s-1', 'kitchen', 'temperature', 'C']], sensors: [], late });
    const m = new TextEncoder().encode(text);
    const out = new Uint8Array(32 + 2 * 20 + m.length);
    out.set(bytes.subarray(0, 32 + 2 * 20));
    new DataView(out.buffer).setUint32(24, m.length, true);
    out.set(m, 32 + 2 * 20);
    // both rows name series 0
    new DataView(out.buffer).setInt32(32 + 2 * 16 + 4, 0, true);
    return out;
  };
  assert.is(decodeBundle(meta(2)).lateFrom, 2);
  throwsBadBundle(meta(3), /late rows start at 3 of 2/);
  throwsBadBundle(meta(1.5), /late rows start at 1.5/);
  throwsBadBundle(meta('1'), /late mark is not a number/);
});

test.run();
