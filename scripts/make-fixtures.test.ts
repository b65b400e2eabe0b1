// Tests for scripts/make-fixtures.ts: the fixtures are deterministic, current, and readable (fixtures/README.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { makeFixtures } from './make-fixtures.ts';

const committed = join(import.meta.dirname, '..', 'fixtures');
const temps: string[] = [];

function runInto(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-fixtures-'));
  temps.push(dir);
  makeFixtures(dir);
  return dir;
}

const first = runInto();
const second = runInto();
const made = readdirSync(first).sort();

/** Data rows each file must read back as; written here, not taken from the script. */
const expectedRows: Record<string, number> = {
  'readings-valid.csv': 90,
  'readings-bad-rows-3-and-7.csv': 10,
  'readings-with-duplicates-4-of-12.csv': 12,
  'readings-quoted-units.csv': 10,
  'readings-mixed-iso-and-ms-times.csv': 10,
  'readings-missing-value-column.csv': 3,
  'readings-header-only.csv': 0,
  'readings-every-rule-broken.csv': 15,
};

test.after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

test('two runs write the same files, byte for byte', () => {
  assert.equal(readdirSync(second).sort(), made);
  for (const file of made) {
    assert.ok(readFileSync(join(first, file)).equals(readFileSync(join(second, file))), `${file} differs between runs`);
  }
});

test('the committed fixtures are exactly what the script makes (else run npx tsx scripts/make-fixtures.ts)', () => {
  for (const file of made) {
    const mine = readFileSync(join(first, file));
    let theirs: Buffer;
    try {
      theirs = readFileSync(join(committed, file));
    } catch {
      assert.unreachable(`fixtures/${file} is missing`);
      return;
    }
    assert.ok(mine.equals(theirs), `fixtures/${file} is stale`);
  }
});

test('every CSV file it makes is one the test knows, and reads back to its expected number of rows', () => {
  assert.equal(
    made.filter((f) => f.endsWith('.csv')),
    Object.keys(expectedRows).sort(),
  );
  for (const [file, rows] of Object.entries(expectedRows)) {
    const records = parse<Record<string, string>>(readFileSync(join(first, file), 'utf8'), { columns: true });
    assert.is(records.length, rows, file);
  }
});

test('every CSV file uses \\n line ends and ends with one (so line N of a 422 is row N - 1)', () => {
  for (const file of Object.keys(expectedRows)) {
    const text = readFileSync(join(first, file), 'utf8');
    assert.not.ok(text.includes('\r'), file);
    assert.ok(text.endsWith('\n'), file);
    assert.is(text.split('\n').length - 1, expectedRows[file]! + 1, `${file}: a field spans lines`);
  }
});

test('the valid file has the export columns and is ordered by ts, then sensor, then metric (§2 history export)', () => {
  const text = readFileSync(join(first, 'readings-valid.csv'), 'utf8');
  assert.ok(text.startsWith('ts,sensor,room,metric,value,unit\n'));
  const rows = parse<Record<string, string>>(text, { columns: true });
  const key = (r: Record<string, string>) => [Date.parse(r.ts!), r.sensor!, r.metric!] as const;
  for (let i = 1; i < rows.length; i++) {
    const [ta, sa, ma] = key(rows[i - 1]!);
    const [tb, sb, mb] = key(rows[i]!);
    const inOrder = ta < tb || (ta === tb && (sa < sb || (sa === sb && ma < mb)));
    assert.ok(inOrder, `row ${i + 1} is out of export order`);
  }
  for (const r of rows) assert.is(new Date(Date.parse(r.ts!)).toISOString(), r.ts, 'ts is ISO UTC with milliseconds');
});

test('the bad-row lists name lines that exist in their files', () => {
  const expected = JSON.parse(readFileSync(join(first, 'readings-every-rule-broken.expected.json'), 'utf8')) as {
    line: number;
    rule: string;
  }[];
  assert.is(expected.length, 12);
  const lines = expected.map((x) => x.line);
  assert.equal(
    lines,
    [...lines].sort((a, b) => a - b),
    'in line order',
  );
  for (const x of expected) {
    assert.ok(x.line >= 2 && x.line <= expectedRows['readings-every-rule-broken.csv']! + 1, `line ${x.line}`);
    assert.type(x.rule, 'string');
  }
});

test.run();
