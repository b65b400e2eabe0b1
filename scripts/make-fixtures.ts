/**
 * Makes the CSV fixtures of the bulk upload and the history export (PROTOCOL.md §2), their
 * expected answers, and fixtures/README.md.
 *
 *   npx tsx scripts/make-fixtures.ts      # overwrites fixtures/*.csv, *.expected.json, README.md
 *
 * Deterministic: a seeded PRNG and a fixed base time, so two runs write byte-identical files
 * (scripts/make-fixtures.test.ts checks that, and that the committed files are current).
 * Before writing, every file is parsed back and checked against protocol/names.ts, so a
 * fixture that no longer proves what its name says stops the script.
 * fixtures/protocol-session.txt is written by hand, not here.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import {
  defaultUnit,
  isMetric,
  isRoom,
  isSensorId,
  isUnit,
  MAX_UNIT_CHARS,
  MIN_TS_MS,
  tsProblem,
  WELL_KNOWN_UNITS,
} from '../protocol/names.ts';
import { missingUploadColumns, RAW_COLUMNS } from '../protocol/columns.ts';
import { seededRandom } from '../sensors/random.ts';

/** 2025-11-21T08:00:00.000Z: every fixture's readings are taken around this time. */
export const BASE_TS_MS = 1_763_712_000_000;
/** The longest sensor id the pattern in names.ts allows (one lead character plus 63). */
const MAX_SENSOR_ID_CHARS = 64;
const EXPORT_COLUMNS: string[] = [...RAW_COLUMNS];
const MINUTE_MS = 60_000;

type Cell = string | number;

interface BadLine {
  line: number;
  rule: string;
}

interface Fixture {
  file: string;
  header: string[];
  rows: Cell[][];
  /** Lines (1 = header) the hub must refuse; each row breaks exactly the rule named. */
  bad: BadLine[];
  /** How many rows repeat an earlier (sensor, metric, ts) of the same file. */
  duplicates: number;
  /** For the README: what the file proves, and the hub's answer to its upload. */
  proves: string;
}

/** The rules of "Names and values" (PROTOCOL.md §1); these texts go into the .expected.json. */
const RULE = {
  sensorPattern: 'sensor id does not match the pattern',
  sensorLength: `sensor id longer than ${MAX_SENSOR_ID_CHARS} characters`,
  roomPattern: 'room does not match the pattern',
  metricPattern: 'metric does not match the pattern',
  valueNotNumber: 'value is not a number',
  valueEmpty: 'value is empty',
  valueNotFinite: 'value is not finite',
  unitLength: `unit longer than ${MAX_UNIT_CHARS} characters`,
  tsBefore2000: 'ts before the year 2000',
  tsFuture: 'ts more than 24 h ahead of the hub clock',
  tsNoZone: 'ts is ISO 8601 without a zone',
  tsUnreadable: 'ts is neither ISO 8601 nor integer ms',
  tsNotInteger: 'ts is not an integer number of ms',
} as const;

/** The simulator's seeded PRNG (mulberry32): the same numbers on every platform. */
export const prng = seededRandom;

/** FNV-1a: each file seeds its own PRNG from its name, so adding a file changes no other. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** `ms` written as local time at a fixed offset of `offsetMin` minutes, e.g. +01:00. */
function isoAtOffset(ms: number, offsetMin: number): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return iso(ms + offsetMin * MINUTE_MS).replace('Z', zone);
}

const round = (x: number, decimals: number): number => Math.round(x * 10 ** decimals) / 10 ** decimals;

/** A sensor of one file: realistic values that wander a little from one reading to the next. */
function sensorValues(rand: () => number, start: Record<string, number>): (metric: string) => number {
  const now = { ...start };
  const shape: Record<string, { step: number; decimals: number }> = {
    temperature: { step: 0.4, decimals: 2 },
    humidity: { step: 1.5, decimals: 1 },
    cpu_load: { step: 9, decimals: 0 },
  };
  return (metric) => {
    const s = shape[metric] ?? { step: 1, decimals: 1 };
    const v = Math.min(100, Math.max(0, (now[metric] ?? 50) + (rand() - 0.5) * s.step));
    now[metric] = v;
    return round(v, s.decimals);
  };
}

const METRICS = [...WELL_KNOWN_UNITS.keys()].sort();
const unitOf = (metric: string): string => defaultUnit(metric);

/** The order of the history export: ts, then sensor, then metric. */
function byExportOrder(a: Cell[], b: Cell[]): number {
  for (const i of [0, 1, 3]) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function readingsValid(): Fixture {
  const rand = prng(seedOf('readings-valid'));
  const sensors = [
    { sensor: 'valid-living', room: 'living-room', values: sensorValues(rand, { temperature: 21.4, humidity: 44, cpu_load: 12 }) },
    { sensor: 'valid-greenhouse', room: 'greenhouse', values: sensorValues(rand, { temperature: 26.2, humidity: 78, cpu_load: 8 }) },
    { sensor: 'valid-rack1', room: 'server-room', values: sensorValues(rand, { temperature: 24.5, humidity: 35, cpu_load: 37 }) },
  ];
  const rows: Cell[][] = [];
  for (let i = 0; i < 10; i++) {
    const minute = BASE_TS_MS + i * MINUTE_MS;
    // greenhouse at +500 ms; living at +0 or +500 (before it, or tied and then second by
    // sensor id); rack1 anywhere in the second. So the order needs ts, sensor and metric.
    const offsets = [rand() < 0.5 ? 0 : 500, 500, Math.floor(rand() * 1000)];
    sensors.forEach((s, k) => {
      const ts = minute + offsets[k]!;
      for (const metric of METRICS) rows.push([iso(ts), s.sensor, s.room, metric, s.values(metric), unitOf(metric)]);
    });
  }
  rows.sort(byExportOrder);
  return {
    file: 'readings-valid.csv',
    header: EXPORT_COLUMNS,
    rows,
    bad: [],
    duplicates: 0,
    proves: `3 sensors x 3 metrics x 10 times, byte for byte what \`GET /api/v1/history.csv?sensor=valid-greenhouse,valid-living,valid-rack1\` exports after the upload: \`200 {"accepted":${rows.length},"duplicates":0}\`; the same file again: \`200 {"accepted":0,"duplicates":${rows.length}}\``,
  };
}

/** `n` valid rows of two sensors in export order, starting `startMin` minutes after the base. */
function plainRows(tag: string, n: number, startMin = 0): Cell[][] {
  const rand = prng(seedOf(tag));
  const living = sensorValues(rand, { temperature: 21, humidity: 45 });
  const rack = sensorValues(rand, { temperature: 25, cpu_load: 40 });
  const rows: Cell[][] = [];
  for (let i = 0; rows.length < n; i++) {
    const ts = BASE_TS_MS + (startMin + i) * MINUTE_MS;
    const all: Cell[][] = [
      [iso(ts), `${tag}-living`, 'living-room', 'temperature', living('temperature'), 'C'],
      [iso(ts + 250), `${tag}-rack1`, 'server-room', 'cpu_load', rack('cpu_load'), '%'],
    ];
    rows.push(...all.slice(0, n - rows.length));
  }
  return rows;
}

/** Data row of a given 1-based file line (line 1 is the header). */
const atLine = (rows: Cell[][], line: number): Cell[] => rows[line - 2]!;

function readingsBadRows(): Fixture {
  const rows = plainRows('badrows', 10);
  atLine(rows, 3)[3] = 'Temp!';
  atLine(rows, 7)[0] = '2025-11-21T08:00:05';
  return {
    file: 'readings-bad-rows-3-and-7.csv',
    header: EXPORT_COLUMNS,
    rows,
    bad: [
      { line: 3, rule: RULE.metricPattern },
      { line: 7, rule: RULE.tsNoZone },
    ],
    duplicates: 0,
    proves: 'one bad metric (line 3) and one ts without a zone (line 7) among valid rows; atomic, nothing stored: `422 lines 3, 7`',
  };
}

function readingsWithDuplicates(): Fixture {
  const t0 = BASE_TS_MS;
  const t1 = BASE_TS_MS + MINUTE_MS;
  const t2 = BASE_TS_MS + 2 * MINUTE_MS;
  const L = 'dup-living';
  const R = 'dup-rack1';
  // Near misses (same sensor and ts but another metric, another sensor, 1 ms later) are not
  // duplicates; a repeat with another value, or its ts written as ms, still is.
  const rows: Cell[][] = [
    [iso(t0), L, 'living-room', 'temperature', 21.5, 'C'], // 2
    [iso(t0), L, 'living-room', 'humidity', 45.2, '%'], // 3
    [iso(t0), R, 'server-room', 'temperature', 24.5, 'C'], // 4
    [iso(t0), L, 'living-room', 'temperature', 21.5, 'C'], // 5: repeats 2 exactly
    [iso(t0 + 1), L, 'living-room', 'temperature', 21.6, 'C'], // 6
    [iso(t1), R, 'server-room', 'cpu_load', 37, '%'], // 7
    [iso(t0), R, 'server-room', 'temperature', 25, 'C'], // 8: repeats 4, another value
    [iso(t1), L, 'living-room', 'temperature', 21.7, 'C'], // 9
    [String(t1), R, 'server-room', 'cpu_load', 99, '%'], // 10: repeats 7, ts as ms, another value
    [iso(t1), L, 'living-room', 'humidity', 46, '%'], // 11
    [iso(t2), R, 'server-room', 'cpu_load', 38, '%'], // 12
    [iso(t0), L, 'living-room', 'humidity', 50.1, '%'], // 13: repeats 3, another value
  ];
  return {
    file: 'readings-with-duplicates-4-of-12.csv',
    header: EXPORT_COLUMNS,
    rows,
    bad: [],
    duplicates: 4,
    proves:
      '12 rows, 4 repeating an earlier (sensor, metric, ts) of the file (lines 5, 8, 10, 13: one identical, three with another value, line 10 also with its ts as ms) next to near misses that are not duplicates; the first value is kept: `200 {"accepted":8,"duplicates":4}`',
  };
}

function readingsQuotedUnits(): Fixture {
  const rand = prng(seedOf('readings-quoted-units'));
  const kinds = [
    { sensor: 'quoted-greenhouse', room: 'greenhouse', metric: 'rain', unit: 'mm,24h', base: 3 }, // comma
    { sensor: 'quoted-porch', room: 'porch', metric: 'snow_depth', unit: 'in"', base: 4 }, // double quote
    { sensor: 'quoted-greenhouse', room: 'greenhouse', metric: 'soil_temperature', unit: 'deg C', base: 14 }, // space
    { sensor: 'quoted-porch', room: 'porch', metric: 'door_open', unit: '', base: 0 }, // empty
    { sensor: 'quoted-meter', room: 'utility-room', metric: 'energy', unit: 'kWh, 15-min mean', base: 0.8 }, // comma and space, exactly 16 chars
  ];
  const rows: Cell[][] = [];
  for (let i = 0; i < 2; i++) {
    for (const k of kinds) {
      const value = k.metric === 'door_open' ? i : round(k.base + rand() * 2, 1);
      rows.push([iso(BASE_TS_MS + i * 5 * MINUTE_MS), k.sensor, k.room, k.metric, value, k.unit]);
    }
  }
  rows.sort(byExportOrder);
  return {
    file: 'readings-quoted-units.csv',
    header: EXPORT_COLUMNS,
    rows,
    bad: [],
    duplicates: 0,
    proves: `units with a comma, a double quote, a space, none (metric with no well-known unit), and 16 chars (the limit), RFC 4180 quoted, in export order, so the export of \`sensor=quoted-greenhouse,quoted-meter,quoted-porch\` gives this file back byte for byte: \`200 {"accepted":${rows.length},"duplicates":0}\``,
  };
}

function readingsMixedTimes(): Fixture {
  const rand = prng(seedOf('readings-mixed-iso-and-ms-times'));
  const living = sensorValues(rand, { temperature: 21, humidity: 45 });
  const forms: { note: string; write: (ms: number) => string }[] = [
    { note: 'ISO 8601 with Z', write: iso },
    { note: 'ISO 8601 with offset +01:00', write: (ms) => isoAtOffset(ms, 60) },
    { note: 'integer ms', write: (ms) => String(ms) },
  ];
  const rows: Cell[][] = [];
  for (let i = 0; i < 9; i++) {
    const ms = BASE_TS_MS + i * MINUTE_MS + i * 7;
    const form = forms[i % forms.length]!;
    const metric = i % 2 === 0 ? 'temperature' : 'humidity';
    rows.push([
      'mixed-living',
      metric,
      living(metric),
      form.write(ms),
      `${form.note}, stored as ${iso(ms)}`,
      unitOf(metric),
      'living-room',
    ]);
  }
  // Local time on the previous day: the date must come from the conversion, not the text.
  const ms = BASE_TS_MS + 9 * MINUTE_MS;
  rows.push([
    'mixed-living',
    'temperature',
    living('temperature'),
    isoAtOffset(ms, -9 * 60),
    `ISO 8601 with offset -09:00, stored as ${iso(ms)}`,
    'C',
    'living-room',
  ]);
  return {
    file: 'readings-mixed-iso-and-ms-times.csv',
    header: ['sensor', 'metric', 'value', 'ts', 'note', 'unit', 'room'],
    rows,
    bad: [],
    duplicates: 0,
    proves: `ts as ISO with Z, ISO with +01:00 or -09:00 (converted to UTC), and integer ms; columns in another order than the export, and an ignored \`note\` column that says the UTC time each row must be stored at: \`200 {"accepted":${rows.length},"duplicates":0}\``,
  };
}

function readingsMissingValueColumn(): Fixture {
  const rows = plainRows('novalue', 3).map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, r[5]!]);
  return {
    file: 'readings-missing-value-column.csv',
    header: ['ts', 'sensor', 'room', 'metric', 'unit'],
    rows,
    bad: [],
    duplicates: 0,
    proves: 'a header without the required `value` column; nothing stored: `400`',
  };
}

function readingsHeaderOnly(): Fixture {
  return {
    file: 'readings-header-only.csv',
    header: EXPORT_COLUMNS,
    rows: [],
    bad: [],
    duplicates: 0,
    proves: 'the header and no rows: `200 {"accepted":0,"duplicates":0}`',
  };
}

function readingsEveryRuleBroken(): Fixture {
  const good = plainRows('broken', 3);
  const b = (rule: string, sensor: string, room: string, metric: string, value: Cell, unit: string, ts: string) => ({
    rule,
    row: [ts, sensor, room, metric, value, unit] as Cell[],
  });
  const t = iso(BASE_TS_MS + 30 * MINUTE_MS);
  const S = 'broken-living';
  const longId = ('broken-long-id-' + '0123456789'.repeat(7)).slice(0, MAX_SENSOR_ID_CHARS + 1);
  const broken = [
    b(RULE.sensorPattern, 'broken/rack1', 'server-room', 'temperature', 24.5, 'C', t),
    b(RULE.sensorLength, longId, 'server-room', 'temperature', 24.5, 'C', t),
    b(RULE.roomPattern, S, 'living room', 'temperature', 21.5, 'C', t),
    b(RULE.metricPattern, S, 'living-room', 'cpu-load', 12, '%', t),
    null, // a good row between bad ones: the hub must not list it
    b(RULE.valueNotNumber, S, 'living-room', 'temperature', 'abc', 'C', t),
    b(RULE.valueEmpty, S, 'living-room', 'temperature', '', 'C', t),
    b(RULE.valueNotFinite, S, 'living-room', 'temperature', '1e999', 'C', t),
    b(RULE.unitLength, S, 'living-room', 'dust', 3.2, 'micrograms per m3', t),
    b(RULE.tsBefore2000, S, 'living-room', 'temperature', 21.5, 'C', iso(MIN_TS_MS - 1)),
    b(RULE.tsFuture, S, 'living-room', 'temperature', 21.5, 'C', '2099-01-01T00:00:00.000Z'),
    b(RULE.tsUnreadable, S, 'living-room', 'temperature', 21.5, 'C', 'yesterday'),
    b(RULE.tsNotInteger, S, 'living-room', 'temperature', 21.5, 'C', `${BASE_TS_MS}.5`),
  ];
  const rows: Cell[][] = [good[0]!];
  const bad: BadLine[] = [];
  for (const x of broken) {
    if (x === null) {
      rows.push(good[1]!);
    } else {
      rows.push(x.row);
      bad.push({ line: rows.length + 1, rule: x.rule });
    }
  }
  rows.push(good[2]!);
  return {
    file: 'readings-every-rule-broken.csv',
    header: EXPORT_COLUMNS,
    rows,
    bad,
    duplicates: 0,
    proves: `one bad row for each rule of "Names and values" (lines and rules in readings-every-rule-broken.expected.json) among 3 good rows; nothing stored: \`422 lines ${bad.map((x) => x.line).join(', ')}\``,
  };
}

export function fixtures(): Fixture[] {
  return [
    readingsValid(),
    readingsBadRows(),
    readingsWithDuplicates(),
    readingsQuotedUnits(),
    readingsMixedTimes(),
    readingsMissingValueColumn(),
    readingsHeaderOnly(),
    readingsEveryRuleBroken(),
  ];
}

// ---- self-check: the rules of names.ts, applied to the rows as the hub's upload reads them ----

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The ts a cell means, or the rule it breaks. */
function readTs(cell: string): number | string {
  if (DECIMAL.test(cell)) return Number(cell);
  if (ISO_WITH_ZONE.test(cell) && !Number.isNaN(Date.parse(cell))) return Date.parse(cell);
  if (ISO_WITHOUT_ZONE.test(cell)) return RULE.tsNoZone;
  return RULE.tsUnreadable;
}

function rowProblems(r: Record<string, string>): string[] {
  const out: string[] = [];
  const sensor = r.sensor ?? '';
  if (sensor.length > MAX_SENSOR_ID_CHARS) out.push(RULE.sensorLength);
  else if (!isSensorId(sensor)) out.push(RULE.sensorPattern);
  if (r.room !== undefined && !isRoom(r.room)) out.push(RULE.roomPattern);
  if (!isMetric(r.metric)) out.push(RULE.metricPattern);
  const value = r.value ?? '';
  if (value === '') out.push(RULE.valueEmpty);
  else if (!DECIMAL.test(value)) out.push(RULE.valueNotNumber);
  else if (!Number.isFinite(Number(value))) out.push(RULE.valueNotFinite);
  if (r.unit !== undefined && !isUnit(r.unit)) out.push(RULE.unitLength);
  const ts = readTs(r.ts ?? '');
  if (typeof ts === 'string') out.push(ts);
  else if (!Number.isInteger(ts)) out.push(RULE.tsNotInteger);
  else if (tsProblem(ts, BASE_TS_MS) !== null) out.push(ts < MIN_TS_MS ? RULE.tsBefore2000 : RULE.tsFuture);
  return out;
}

/** Throws unless the CSV text, read back, proves exactly what the fixture says. */
function check(f: Fixture, text: string): void {
  const fail = (why: string): never => {
    throw new Error(`fixtures/${f.file}: ${why}`);
  };
  if (!text.endsWith('\n') || text.includes('\r')) fail('must use \\n line ends and end with one');
  const records = parse<Record<string, string>>(text, { columns: true });
  if (records.length !== f.rows.length) fail(`reads back as ${records.length} rows, not ${f.rows.length}`);
  if (text.split('\n').length - 1 !== f.rows.length + 1) fail('a field spans lines, so line numbers would not be row numbers');
  if (missingUploadColumns(f.header).length > 0) return; // refused as a whole
  const seen = new Set<string>();
  let duplicates = 0;
  const bad: BadLine[] = [];
  records.forEach((r, i) => {
    const problems = rowProblems(r);
    if (problems.length > 1) fail(`line ${i + 2} breaks more than one rule: ${problems.join('; ')}`);
    if (problems[0] !== undefined) return void bad.push({ line: i + 2, rule: problems[0] });
    const id = `${r.sensor}\u0000${r.metric}\u0000${readTs(r.ts!)}`;
    if (seen.has(id)) duplicates++;
    seen.add(id);
  });
  if (JSON.stringify(bad) !== JSON.stringify(f.bad)) fail(`bad lines are ${JSON.stringify(bad)}, meant ${JSON.stringify(f.bad)}`);
  if (duplicates !== f.duplicates) fail(`${duplicates} duplicates, meant ${f.duplicates}`);
}

function readme(all: Fixture[]): string {
  const lines = [
    '# Fixtures',
    '',
    'Made by `npx tsx scripts/make-fixtures.ts` (deterministic; edit the script, not these files), except',
    '`protocol-session.txt` and `demo-users.json`. Answers are those of `POST /api/v1/readings` (PROTOCOL.md §2). Each file uses',
    'sensor ids of its own (they start with its tag), so the files can be uploaded to one hub in any order',
    'and each gets the answer below; filter the export by those ids to compare.',
    '',
    ...all.map((f) => `- \`${f.file}\`: ${f.proves}.`),
    '- `readings-every-rule-broken.expected.json`: `[{"line","rule"}]` for each bad line of `readings-every-rule-broken.csv`; the 422 answer must list exactly these lines, in this order.',
    '- `protocol-session.txt` (by hand): the example sensor session of PROTOCOL.md §1, annotated (`>` sensor to hub, `<` hub to sensor), with an error and acks.',
    '- `demo-users.json` (by hand): the demo users of docs/ADMIN.md, all with the password `password`: alex (viewer; living-room, server-room), sue (admin; every room, `*`: the five rooms of the demo and any other), sandy (operator; greenhouse, server-room). Load them into a hub that has no users yet with `npm run cli -- users import fixtures/demo-users.json`; never into one that others can reach.',
    '',
  ];
  return lines.join('\n');
}

export interface Written {
  file: string;
  /** Data rows (CSV) or entries (JSON); 0 for the README. */
  rows: number;
}

/** Writes every generated fixture into `dir` (created if missing); returns what it wrote. */
export function makeFixtures(dir: string): Written[] {
  mkdirSync(dir, { recursive: true });
  const all = fixtures();
  const written: Written[] = [];
  const write = (file: string, text: string, rows: number) => {
    writeFileSync(join(dir, file), text);
    written.push({ file, rows });
  };
  for (const f of all) {
    const text = stringify([f.header, ...f.rows]);
    check(f, text);
    write(f.file, text, f.rows.length);
    if (f.file === 'readings-every-rule-broken.csv') {
      write('readings-every-rule-broken.expected.json', JSON.stringify(f.bad, null, 2) + '\n', f.bad.length);
    }
  }
  write('README.md', readme(all), 0);
  return written;
}

function isEntry(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === realpathSync(import.meta.filename);
  } catch {
    return false;
  }
}

if (isEntry()) {
  const dir = join(import.meta.dirname, '..', 'fixtures');
  for (const w of makeFixtures(dir)) {
    const path = relative(process.cwd(), join(dir, w.file));
    process.stdout.write(
      w.file.endsWith('.md') ? `wrote ${path}\n` : `wrote ${path} (${w.rows} ${w.file.endsWith('.json') ? 'entries' : 'rows'})\n`,
    );
  }
}
