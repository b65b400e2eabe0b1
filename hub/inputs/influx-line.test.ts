// The line protocol parser against InfluxDB's own rules (docs/API.md "InfluxDB line protocol"):
// every reason below is what InfluxDB 1.6.7 answered for the same line, seen with influxd here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLines, timestampMs, type LinePoint, type LineResult, type Precision } from './influx-line.ts';

function parseAll(text: string, precision: Precision = 'ns'): { result: LineResult; line: string; number: number }[] {
  const out: { result: LineResult; line: string; number: number }[] = [];
  parseLines(text, precision, (result, span) => out.push({ result, line: text.slice(span.start, span.end), number: span.number }));
  return out;
}

function one(line: string, precision: Precision = 'ns'): LinePoint {
  const all = parseAll(line, precision);
  assert.is(all.length, 1, `one line in ${JSON.stringify(line)}`);
  const r = all[0]!.result;
  if (!r.ok) throw new Error(`${JSON.stringify(line)} refused: ${r.reason}`);
  return r.point;
}

function reason(line: string): string {
  const all = parseAll(line);
  assert.is(all.length, 1);
  const r = all[0]!.result;
  assert.not.ok(r.ok, `${JSON.stringify(line)} must be refused`);
  return (r as { reason: string }).reason;
}

test('a point: measurement, tags in order, fields, timestamp in ns given in ms', () => {
  assert.equal(one('cpu,host=a,region=west usage=64.2,idle=30 1700000000123456789'), {
    measurement: 'cpu',
    tags: [
      { key: 'host', value: 'a' },
      { key: 'region', value: 'west' },
    ],
    fields: [
      { key: 'usage', kind: 'float', value: 64.2 },
      { key: 'idle', kind: 'float', value: 30 },
    ],
    tsMs: 1700000000123,
  });
});

test('without a timestamp: tsMs is null; without tags: none', () => {
  assert.equal(one('temperature value=21.5'), {
    measurement: 'temperature',
    tags: [],
    fields: [{ key: 'value', kind: 'float', value: 21.5 }],
    tsMs: null,
  });
});

test('field value kinds: floats, i integers, u unsigned, quoted strings, every boolean spelling', () => {
  const p = one('m a=1,b=-1.5,c=.5,d=1.,e=1e5,f=1E+5,g=-2e-3,h=01,i=-0,j=12i,k=-12i,l=12u,s="x y",t=t,u=TRUE,v=False,w=f');
  assert.equal(
    p.fields.map((f) => [f.key, f.kind, f.value]),
    [
      ['a', 'float', 1],
      ['b', 'float', -1.5],
      ['c', 'float', 0.5],
      ['d', 'float', 1],
      ['e', 'float', 1e5],
      ['f', 'float', 1e5],
      ['g', 'float', -2e-3],
      ['h', 'float', 1],
      ['i', 'float', -0],
      ['j', 'integer', 12],
      ['k', 'integer', -12],
      ['l', 'unsigned', 12],
      ['s', 'string', 'x y'],
      ['t', 'boolean', true],
      ['u', 'boolean', true],
      ['v', 'boolean', false],
      ['w', 'boolean', false],
    ],
  );
  for (const word of ['t', 'T', 'true', 'True', 'TRUE']) assert.is(one(`m b=${word}`).fields[0]!.value, true, word);
  for (const word of ['f', 'F', 'false', 'False', 'FALSE']) assert.is(one(`m b=${word}`).fields[0]!.value, false, word);
});

test('integers at the int64 and uint64 limits are taken; beyond them: value out of range', () => {
  assert.is(one('m a=9223372036854775807i').fields[0]!.kind, 'integer');
  assert.is(one('m a=-9223372036854775808i').fields[0]!.kind, 'integer');
  assert.is(one('m a=18446744073709551615u').fields[0]!.kind, 'unsigned');
  assert.is(reason('m a=9223372036854775808i'), 'value out of range');
  assert.is(reason('m a=-9223372036854775809i'), 'value out of range');
  assert.is(reason('m a=18446744073709551616u'), 'value out of range');
  assert.is(reason('m a=-1u'), 'invalid unsigned integer');
  assert.is(reason('m a=1.5i'), 'invalid integer');
});

test('numbers InfluxDB refuses: +1, NaN, inf, 1e, --1, 0x10, 1_0; an unknown word is an invalid boolean', () => {
  for (const v of ['+1', '1e', '--1', '0x10', '1_0', '.', '-', '1.2.3']) assert.is(reason(`m a=${v}`), 'invalid number', v);
  for (const v of ['NaN', 'inf', 'tRUE', 'yes']) assert.is(reason(`m a=${v}`), 'invalid boolean', v);
});

test('escapes: \\, \\= and \\space in names and tag values; other backslashes are literal', () => {
  const p = one('my\\ cpu\\,x,tag\\ key=va\\,l\\=ue\\ x,path=C:\\dir f\\=ield\\ 1=1');
  assert.is(p.measurement, 'my cpu,x');
  assert.equal(p.tags, [
    { key: 'tag key', value: 'va,l=ue x' },
    { key: 'path', value: 'C:\\dir' },
  ]);
  assert.is(p.fields[0]!.key, 'f=ield 1');
});

test('quoted strings: escaped quote and backslash, commas, spaces, equals and a newline inside', () => {
  const all = parseAll('m s="a \\"q\\" \\\\ b, c=d e",n=1 1\nm s="two\nlines" 2\nm n=3 3');
  assert.equal(
    all.map((a) => (a.result.ok ? [a.number, a.result.point.fields[0]!.value, a.result.point.tsMs] : a.result.reason)),
    [
      [1, 'a "q" \\ b, c=d e', 0],
      [2, 'two\nlines', 0],
      [4, 3, 0],
    ],
    'a newline inside a string ends no line; line numbers count it',
  );
  assert.is(reason('m s="open'), 'unbalanced quotes');
});

test('unbalanced quotes run to the end of the body, as in InfluxDB: the lines after are part of the bad one', () => {
  const all = parseAll('m a=1\nm s="open\nm a=2\n');
  assert.is(all.length, 2);
  assert.not.ok(all[1]!.result.ok);
  assert.is(all[1]!.line, 'm s="open\nm a=2\n');
});

test('blank lines, comments, leading and trailing spaces, CRLF: skipped or tolerated', () => {
  const all = parseAll('# a comment\n\n   \n  m a=1\r\nm  a=2  3\n   # indented comment\nm a=4 ');
  assert.equal(
    all.map((a) => [a.number, a.line, a.result.ok]),
    [
      [4, 'm a=1', true],
      [5, 'm  a=2  3', true],
      [7, 'm a=4 ', true],
    ],
  );
});

test('InfluxDB 1.6.7 reasons for malformed lines', () => {
  const cases: [string, string][] = [
    ['m,t= f=1', 'missing tag value'],
    ['m,=x f=1', 'missing tag key'],
    ['m, f=1', 'missing tag key'],
    ['m,t f=1', 'missing tag value'],
    ['m f=', 'missing field value'],
    ['m f=,g=1', 'missing field value'],
    ['m =1', 'missing field key'],
    ['m f=1,', 'invalid field format'],
    ['m f=1, 5', 'invalid field format'],
    ['m f=1 1700000000 extra', 'point is invalid'],
    ['m,t=a,t=b f=1', 'duplicate tags'],
    ['m', 'missing fields'],
    ['m ', 'missing fields'],
    ['m f', 'missing fields'],
    [',t=a f=1', 'missing measurement'],
    ['m f=1 1700000000.5', 'bad timestamp'],
    ['m f=1 abc', 'bad timestamp'],
    ['m f=1 99999999999999999999', 'bad timestamp: value out of range'],
    ['m f=1\t1700000000', 'invalid number'],
    ['m,t=a\tf=1', 'invalid tag format'],
    ['m,t=a=b f=1', 'invalid tag format'],
    ['bad line here', 'missing fields'],
  ];
  for (const [line, why] of cases) assert.is(reason(line), why, line);
});

test('a bad line does not stop the others; each result names its own line and number', () => {
  const all = parseAll('cpu,host=a value=1 1700000000000\nbad line here\ncpu,host=b value=2 1700000000000\n', 'ms');
  assert.equal(
    all.map((a) => [a.number, a.line, a.result.ok]),
    [
      [1, 'cpu,host=a value=1 1700000000000', true],
      [2, 'bad line here', false],
      [3, 'cpu,host=b value=2 1700000000000', true],
    ],
  );
});

test('timestamps in every precision become ms, rounded down, exactly for any int64', () => {
  assert.is(timestampMs('1700000000123456789', 'ns'), 1700000000123);
  assert.is(timestampMs('1700000000123999999', 'ns'), 1700000000123, 'no float rounding up');
  assert.is(timestampMs('1700000000123999', 'us'), 1700000000123);
  assert.is(timestampMs('1700000000123', 'ms'), 1700000000123);
  assert.is(timestampMs('1700000000', 's'), 1700000000000);
  assert.is(timestampMs('28333333', 'm'), 28333333 * 60_000);
  assert.is(timestampMs('472222', 'h'), 472222 * 3_600_000);
  assert.is(timestampMs('999999', 'ns'), 0);
  assert.is(timestampMs('-1', 'ns'), -1, 'rounded down below zero');
  assert.is(timestampMs('-1000000', 'ns'), -1);
  assert.is(timestampMs('0', 'ns'), 0);
  assert.is(timestampMs('9223372036854775807', 'ns'), 9223372036854);
  assert.is(one('m a=1 1700000000', 's').tsMs, 1_700_000_000_000);
});

test('a measurement, tag or field named __proto__ or constructor is plain data', () => {
  const p = one('__proto__,constructor=__proto__ constructor=1,__proto__=2');
  assert.is(p.measurement, '__proto__');
  assert.equal(p.tags, [{ key: 'constructor', value: '__proto__' }]);
  assert.equal(
    p.fields.map((f) => f.key),
    ['constructor', '__proto__'],
  );
  assert.is(({} as Record<string, unknown>).constructor, Object);
});

test('a large body of simple lines parses every line', () => {
  const lines = Array.from({ length: 10_000 }, (_, i) => `temperature,sensor=s-${i % 50},room=r value=${i / 10} ${1_700_000_000_000 + i}`);
  let n = 0;
  let sum = 0;
  parseLines(lines.join('\n'), 'ms', (r) => {
    if (r.ok) {
      n++;
      sum += r.point.fields[0]!.value as number;
    }
  });
  assert.is(n, 10_000);
  assert.ok(Math.abs(sum - 4_999_500) < 1e-6);
});

test.run();
