// `upload FILE` (PROTOCOL.md §2 "Bulk upload", §3): the file's bytes reach the hub unchanged as
// text/csv, the hub's counts are printed, and every refusal ends with the right exit code.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closedPort, startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

// Quoted fields, CRLF line ends, a BOM and a multi-byte unit: nothing of it may be "fixed" on the way.
const csv = Buffer.from(
  '\uFEFFts,sensor,room,metric,value,unit\r\n' +
    '2025-11-21T08:00:00.000Z,a-temp,"kitchen",temperature,21.5,°C\r\n' +
    '1763712001000,b-air,hall,pm25,3,"µg/m³"\r\n',
);
const accepted = { accepted: 2, duplicates: 0 };

let hub: FakeHub;
let dir: string;
let file: string;

test.before(async () => {
  hub = await startFakeHub({ upload: { status: 200, body: accepted } });
  dir = await mkdtemp(join(tmpdir(), 'roomwatch-upload-'));
  file = join(dir, 'readings.csv');
  await writeFile(file, csv);
});

test.before.each(() => {
  hub.requests.length = 0;
});

test.after(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

test('upload sends the file byte for byte as text/csv and prints accepted and duplicates [§2]', async () => {
  const result = await runCliProcess(['upload', file, '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'accepted 2, duplicates 0\n');
  assert.is(result.stderr, '');
  const request = hub.requests[0];
  assert.is(request?.method, 'POST');
  assert.is(request?.url, '/api/v1/readings');
  assert.is(request?.headers['content-type'], 'text/csv');
  assert.is(request?.headers['content-length'], String(csv.length));
  assert.ok(request?.body.equals(csv), 'the body is the file, unchanged');
});

test("upload --json prints the hub's answer as it came", async () => {
  const result = await runCliProcess(['upload', '--json', file, '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout), accepted);
});

test('upload - streams stdin, unchanged, without a known length', async () => {
  const result = await runCliProcess(['upload', '-', '--hub', hub.url], { stdin: csv });
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'accepted 2, duplicates 0\n');
  const request = hub.requests[0];
  assert.is(request?.headers['transfer-encoding'], 'chunked');
  assert.ok(request?.body.equals(csv));
});

test('a 422 exits 1 with the message and a line N: message for every listed row [§2]', async () => {
  const rows = [
    { line: 3, message: 'ts "2025-11-21T08:00" has no time zone' },
    { line: 7, message: 'value is not a number' },
    { line: 12, message: 'metric "Temp" does not match ^[a-z][a-z0-9_]{0,63}$' },
  ];
  const refusing = await startFakeHub({
    upload: { status: 422, body: { error: { code: 'invalid_csv', message: '3 invalid rows; nothing was stored', rows } } },
  });
  try {
    const result = await runCliProcess(['upload', file, '--hub', refusing.url]);
    assert.is(result.code, 1);
    assert.is(result.stdout, '');
    assert.match(result.stderr, 'hub refused (422 invalid_csv): 3 invalid rows; nothing was stored');
    for (const row of rows) assert.match(result.stderr, `line ${row.line}: ${row.message}\n`);
  } finally {
    await refusing.close();
  }
});

test('a 413 sent before the body is read exits 1 with its message, not as a lost connection', async () => {
  const big = join(dir, 'big.csv');
  await writeFile(big, Buffer.concat([csv, Buffer.alloc(8 << 20, 'x')]));
  const body = { error: { code: 'too_large', message: 'the upload is over the limit of 4194304 bytes' } };
  const refusing = await startFakeHub({ upload: { status: 413, body, early: true } });
  try {
    const result = await runCliProcess(['upload', big, '--hub', refusing.url]);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, 'hub refused (413 too_large): the upload is over the limit');
  } finally {
    await refusing.close();
  }
});

test('a 400 (a required column missing) exits 1 with its message [§2]', async () => {
  const body = JSON.stringify({ error: { code: 'missing_column', message: 'the header has no "value" column' } });
  const refusing = await startFakeHub({ refuse: { status: 400, body } });
  try {
    const result = await runCliProcess(['upload', file, '--hub', refusing.url]);
    assert.is(result.code, 1);
    assert.match(result.stderr, 'hub refused (400 missing_column): the header has no "value" column');
  } finally {
    await refusing.close();
  }
});

test('a missing or unreadable FILE is a usage error (exit 2) and nothing is sent', async () => {
  for (const name of [join(dir, 'no-such.csv'), dir]) {
    const result = await runCliInProcess(['upload', name, '--hub', hub.url]);
    assert.is(result.code, 2, result.stderr);
    assert.match(result.stderr, `cannot read "${name}"`);
  }
  const none = await runCliInProcess(['upload', '--hub', hub.url]);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'upload needs FILE');
  assert.is(hub.requests.length, 0);
});

test('filters do not apply to an upload: exit 2 rather than a silent whole-file upload', async () => {
  const result = await runCliInProcess(['upload', file, '--room', 'hall', '--hub', hub.url]);
  assert.is(result.code, 2);
  assert.match(result.stderr, 'do not apply');
  assert.is(hub.requests.length, 0);
});

test('nothing listening exits 3 [§3]', async () => {
  const port = await closedPort();
  const result = await runCliProcess(['upload', file, '--hub', `http://127.0.0.1:${port}`]);
  assert.is(result.code, 3);
  assert.match(result.stderr, 'connection refused');
});

test('on a terminal, stderr shows the bytes sent of the total, then a summary', async () => {
  const result = await runCliInProcess(['upload', file, '--hub', hub.url], { stderrTTY: true });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, `uploading ${file}: ${csv.length} B of ${csv.length} B (100%)`);
  assert.match(result.stderr, new RegExp(`\\ruploaded .*readings\\.csv \\(${csv.length} B\\) in \\d+\\.\\d s\\n$`));
  assert.is(result.stdout, 'accepted 2, duplicates 0\n');
});

test.run();
