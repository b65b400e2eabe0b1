// `history` (PROTOCOL.md §2 "History export", §3): the hub's CSV bytes end up unchanged in a file
// or on stdout, the options become the query of §2, and a failed download leaves no file behind.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closedPort, startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

// Multi-byte units split across chunks: the bytes must arrive as sent, not re-decoded.
const degree = Buffer.from('°C');
const chunks = [
  Buffer.from('ts,sensor,room,metric,value,unit\n2025-11-21T08:00:00.000Z,a-temp,kitchen,temperature,21.5,'),
  degree.subarray(0, 1),
  Buffer.concat([degree.subarray(1), Buffer.from('\n2025-11-21T08:00:01.000Z,b-air,"hall",pm25,3,µg/m³\n')]),
  Buffer.from('2025-11-21T08:00:02.000Z,a-temp,kitchen,temperature,21.25,°C\n'),
];
const served = Buffer.concat(chunks);

let hub: FakeHub;
let dir: string;

test.before(async () => {
  hub = await startFakeHub({ history: { chunks } });
  dir = await mkdtemp(join(tmpdir(), 'roomwatch-history-'));
});

test.before.each(() => {
  hub.requests.length = 0;
});

test.after(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const refusal = JSON.stringify({ error: { code: 'bad_parameter', message: 'from must be before to' } });

test('history --out writes exactly the bytes the hub served, and nothing else in the directory [§2]', async () => {
  const out = join(dir, 'exact.csv');
  const result = await runCliProcess(['history', '--hub', hub.url, '--out', out]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, '');
  assert.is(result.stderr, '', 'no progress when stderr is not a terminal');
  assert.ok((await readFile(out)).equals(served));
  assert.equal(await readdir(dir), ['exact.csv'], 'the temporary file was renamed, not left behind');
});

test('filters, from, to, every and time are sent as query parameters, times as ms [§2]', async () => {
  const out = join(dir, 'query.csv');
  const result = await runCliProcess([
    'history',
    '--hub',
    hub.url,
    '--out',
    out,
    '--sensor',
    'a-temp,b-air',
    '--room',
    'kitchen',
    '--metric',
    'temperature',
    '--from',
    '2025-11-21T09:00:00+01:00',
    '--to',
    '1763715600000',
    '--every',
    '5m',
    '--time',
    'ms',
  ]);
  assert.is(result.code, 0, result.stderr);
  assert.is(hub.requests.length, 1);
  const url = new URL(hub.requests[0]?.url ?? '', hub.url);
  assert.is(url.pathname, '/api/v1/history.csv');
  assert.equal(Object.fromEntries(url.searchParams), {
    sensor: 'a-temp,b-air',
    room: 'kitchen',
    metric: 'temperature',
    from: String(Date.UTC(2025, 10, 21, 8)),
    to: '1763715600000',
    every: '5m',
    time: 'ms',
  });
});

test('a relative --from -1h is sent as now minus an hour, in ms', async () => {
  const before = Date.now();
  const result = await runCliProcess(['history', '--hub', hub.url, '--from', '-1h', '--out', join(dir, 'relative.csv')]);
  const after = Date.now();
  assert.is(result.code, 0, result.stderr);
  const from = Number(new URL(hub.requests[0]?.url ?? '', hub.url).searchParams.get('from'));
  assert.ok(from >= before - 3_600_000 && from <= after - 3_600_000, `from=${from} within the run's own clock window`);
});

test('history to a pipe prints the CSV only: no progress, no summary', async () => {
  const result = await runCliProcess(['history', '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, served.toString('utf8'));
  assert.is(result.stderr, '');
});

test('a 400 from the hub exits 1 with its message and leaves no file at --out [§2]', async () => {
  const refusing = await startFakeHub({ refuse: { status: 400, body: refusal } });
  const out = join(dir, 'refused', 'h.csv');
  await mkdir(join(dir, 'refused'));
  try {
    const result = await runCliProcess(['history', '--hub', refusing.url, '--out', out]);
    assert.is(result.code, 1);
    assert.match(result.stderr, 'hub refused (400 bad_parameter): from must be before to');
    assert.equal(await readdir(join(dir, 'refused')), []);
  } finally {
    await refusing.close();
  }
});

test('a download cut off midway exits 3 and keeps the old file at --out as it was', async () => {
  const breaking = await startFakeHub({ history: { chunks, breakAfter: 2 } });
  await mkdir(join(dir, 'cut'));
  const out = join(dir, 'cut', 'h.csv');
  await writeFile(out, 'the previous export\n');
  try {
    const result = await runCliProcess(['history', '--hub', breaking.url, '--out', out]);
    assert.is(result.code, 3, result.stderr);
    assert.match(result.stderr, 'connection lost while reading the answer');
    assert.is(await readFile(out, 'utf8'), 'the previous export\n');
    assert.equal(await readdir(join(dir, 'cut')), ['h.csv'], 'no temporary file left');
  } finally {
    await breaking.close();
  }
});

test('Ctrl-C during a download exits 130 and leaves no file, not even a temporary one', async () => {
  const silent = await startFakeHub({ hang: true });
  await mkdir(join(dir, 'interrupted'));
  try {
    const result = await runCliProcess(['history', '--hub', silent.url, '--out', join(dir, 'interrupted', 'h.csv')], {
      onStart: (child) => {
        // Interrupt once the request has reached the hub, when the temporary file surely exists.
        const poll = (): void => void (silent.requests.length > 0 ? child.kill('SIGINT') : setImmediate(poll));
        poll();
      },
    });
    assert.is(result.code, 130, result.stderr);
    assert.equal(await readdir(join(dir, 'interrupted')), []);
  } finally {
    await silent.close();
  }
});

test('a 200 answer that is not CSV exits 1 and writes nothing', async () => {
  const wrong = await startFakeHub({ refuse: { status: 200, body: '<html>login</html>', contentType: 'text/html' } });
  try {
    const out = join(dir, 'not-csv.csv');
    const result = await runCliProcess(['history', '--hub', wrong.url, '--out', out]);
    assert.is(result.code, 1);
    assert.match(result.stderr, 'is not CSV (Content-Type: text/html)');
    assert.not.ok((await readdir(dir)).some((name) => name.includes('not-csv')));
  } finally {
    await wrong.close();
  }
});

test('a time without a zone is a usage error (exit 2) and no request is made [§2]', async () => {
  const result = await runCliProcess(['history', '--hub', hub.url, '--from', '2025-11-21T08:00:00']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /--from "2025-11-21T08:00:00" has no time zone/);
  assert.is(hub.requests.length, 0);
});

test('bad --every, --time and an empty range are usage errors before any request', async () => {
  const cases = [
    ['--every', '5 minutes'],
    ['--time', 'unix'],
    ['--from', '-1h', '--to', '-2h'],
  ];
  for (const extra of cases) {
    const result = await runCliProcess(['history', '--hub', hub.url, ...extra]);
    assert.is(result.code, 2, `${extra.join(' ')}: ${result.stderr}`);
  }
  assert.is(hub.requests.length, 0);
});

test('an --out in a directory that does not exist exits 2 before asking the hub', async () => {
  const result = await runCliProcess(['history', '--hub', hub.url, '--out', join(dir, 'no-such-dir', 'h.csv')]);
  assert.is(result.code, 2);
  assert.match(result.stderr, 'no such file or directory');
  assert.is(hub.requests.length, 0);
});

test('nothing listening exits 3 and leaves no file [§3]', async () => {
  const port = await closedPort();
  const out = join(dir, 'unreachable.csv');
  const result = await runCliProcess(['history', '--hub', `http://127.0.0.1:${port}`, '--out', out]);
  assert.is(result.code, 3);
  assert.match(result.stderr, 'connection refused');
  assert.not.ok((await readdir(dir)).some((name) => name.includes('unreachable')));
});

test('on a terminal, stderr shows progress and then a summary of rows, size, file and time', async () => {
  const out = join(dir, 'tty.csv');
  const result = await runCliInProcess(['history', '--hub', hub.url, '--out', out], { stderrTTY: true });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, /^\rhistory: \d+ rows?, \d+ B, /);
  assert.match(
    result.stderr,
    new RegExp(`\\rwrote 3 rows \\(${served.length} B\\) to ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} in \\d+\\.\\d s\\n$`),
  );
  assert.ok((await readFile(out)).equals(served));
});

test('on a terminal, stdout gets a table, not CSV, and no progress over it', async () => {
  const result = await runCliInProcess(['history', '--hub', hub.url], { stdoutTTY: true, stderrTTY: true });
  assert.is(result.code, 0, result.stderr);
  assert.is(
    result.stdout,
    [
      'ts                        sensor  room     metric       value  unit',
      '2025-11-21T08:00:00.000Z  a-temp  kitchen  temperature   21.5  °C',
      '2025-11-21T08:00:01.000Z  b-air   hall     pm25             3  µg/m³',
      '2025-11-21T08:00:02.000Z  a-temp  kitchen  temperature  21.25  °C',
      '',
    ].join('\n'),
  );
  assert.is(result.stderr, '');
});

/** A hub whose export is `csv`, for one test. */
async function withHistory(csv: string, run: (url: string) => Promise<void>): Promise<void> {
  const other = await startFakeHub({ history: { chunks: [csv] } });
  try {
    await run(other.url);
  } finally {
    await other.close();
  }
}

const BUCKETS =
  'ts,sensor,room,metric,unit,count,min,max,mean\n' +
  '2025-11-21T08:00:00.000Z,a-temp,kitchen,temperature,C,3,5.9,5.92,5.910000000000001\n' +
  '2025-11-21T08:05:00.000Z,a-temp,kitchen,temperature,C,1,-2.5,-2.5,-2.5\n';

test('on a terminal, bucket means read without binary noise (5.910000000000001 shows as 5.91)', async () => {
  await withHistory(BUCKETS, async (url) => {
    const result = await runCliInProcess(['history', '--every', '5m', '--hub', url], { stdoutTTY: true });
    assert.is(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0]?.split(/\s+/), ['ts', 'sensor', 'room', 'metric', 'unit', 'count', 'min', 'max', 'mean']);
    assert.equal(lines[1]?.split(/\s+/), ['2025-11-21T08:00:00.000Z', 'a-temp', 'kitchen', 'temperature', 'C', '3', '5.9', '5.92', '5.91']);
    assert.not.match(result.stdout, '5.910000000000001');
  });
});

test('--json prints one JSON object per row, numbers as numbers, to stdout or to --out', async () => {
  await withHistory(BUCKETS, async (url) => {
    const result = await runCliProcess(['history', '--every', '5m', '--json', '--hub', url]);
    assert.is(result.code, 0, result.stderr);
    const rows = result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.equal(rows[1], {
      ts: '2025-11-21T08:05:00.000Z',
      sensor: 'a-temp',
      room: 'kitchen',
      metric: 'temperature',
      unit: 'C',
      count: 1,
      min: -2.5,
      max: -2.5,
      mean: -2.5,
    });
    const out = join(dir, 'history.jsonl');
    const toFile = await runCliProcess(['history', '--json', '--out', out, '--time', 'ms', '--hub', url]);
    assert.is(toFile.code, 0, toFile.stderr);
    assert.is(toFile.stdout, '');
    assert.is((await readFile(out, 'utf8')).split('\n').length - 1, 2, 'a line per row, no header');
  });
});

test('--json with ts as ms gives ts as a number; a terminal shows no table for an empty export but says so', async () => {
  await withHistory('ts,sensor,room,metric,value,unit\n1763712000000,a,hall,temperature,1,C\n', async (url) => {
    const result = await runCliProcess(['history', '--json', '--time', 'ms', '--hub', url]);
    assert.equal(JSON.parse(result.stdout), { ts: 1763712000000, sensor: 'a', room: 'hall', metric: 'temperature', value: 1, unit: 'C' });
  });
  await withHistory('ts,sensor,room,metric,value,unit\n', async (url) => {
    const result = await runCliInProcess(['history', '--hub', url], { stdoutTTY: true });
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stdout, 'no readings match\n');
  });
});

test('an export that is not valid CSV, shown as a table, exits 1 saying so', async () => {
  await withHistory('ts,sensor,room,metric,value,unit\n2025-11-21T08:00:00.000Z,a,"hall\n', async (url) => {
    const result = await runCliInProcess(['history', '--hub', url], { stdoutTTY: true });
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, "the hub's history export is not valid CSV");
  });
});

test.run();
