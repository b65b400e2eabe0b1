// docs/API.md "POST /api/v1/readings": what an upload that is not a readings CSV is answered
// (PROTOCOL.md §2 "Bulk upload"; 415, 400 and 422 with the contract's error body), the bounds on
// one row (fields, bytes) and on one file (series), the time grammar of ts (protocol/time.ts)
// and the contract's future limit (§1: ts ≤ hub time + 24 h).
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorBody, history, upload, uploadOk, type RawResponse } from '../support/api-client.ts';
import { sensors } from '../support/http.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const HEADER = 'ts,sensor,room,metric,value,unit';
const csv = (rows: string[], header = HEADER): string => [header, ...rows].join('\n') + '\n';

function refused(res: RawResponse, status: number, code: string): { message: string; rows?: { line: number; message: string }[] } {
  assert.is(res.status, status, `status of ${res.text.slice(0, 300)}`);
  const e = errorBody(res);
  assert.is(e.code, code, res.text.slice(0, 300));
  return e;
}

async function nothingStored(port: number, sensor: string): Promise<void> {
  assert.is(await history(port, { sensor }), HEADER + '\n', `history of ${sensor}`);
}

// ---------------------------------------------------------------- not a CSV

test('a Content-Encoding the hub does not take is a 415 unsupported_encoding that says to send it uncompressed', async () => {
  const { httpPort } = await hub();
  const body = gzipSync(csv([`${nextTs()},lim-gzip,lab,temperature,1,C`]));
  for (const encoding of ['gzip', 'br', 'deflate', 'gzip, identity']) {
    const res = await upload(httpPort, body, { 'content-encoding': encoding });
    const e = refused(res, 415, 'unsupported_encoding');
    assert.match(e.message, /uncompressed/);
    assert.is(res.headers['accept-encoding'], 'identity', 'RFC 9110: a 415 for a coding says which are accepted');
  }
  const plain = await upload(httpPort, csv([`${nextTs()},lim-identity,lab,temperature,1,C`]), { 'content-encoding': 'identity' });
  assert.is(plain.status, 200, plain.text);
  await nothingStored(httpPort, 'lim-gzip');
});

test('a body that is not UTF-8 text is a 400 invalid_csv saying what it looks like, not a missing column', async () => {
  const { httpPort } = await hub();
  const text = csv([`${nextTs()},lim-binary,lab,temperature,1,C`]);
  const cases: [string, Buffer, RegExp][] = [
    ['gzip without Content-Encoding', gzipSync(text), /gzip/],
    ['an xlsx (zip) file', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(64, 1)]), /zip|xlsx/],
    ['UTF-16 with a byte order mark', Buffer.from('\ufeff' + text, 'utf16le'), /UTF-16/],
    ['binary with NUL bytes', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /binary|UTF-8/],
    ['Latin-1 in the header', Buffer.from('ts,sensor,room,metric,value,unit,m\xe9t\xe9o\n', 'latin1'), /UTF-8/],
  ];
  for (const [what, body, why] of cases) {
    const e = refused(await upload(httpPort, body), 400, 'invalid_csv');
    assert.match(e.message, /not a CSV file/, what);
    assert.match(e.message, why, what);
  }
  await nothingStored(httpPort, 'lim-binary');
});

test('a header separated by semicolons or tabs is a 400 missing_column that names the separator', async () => {
  const { httpPort } = await hub();
  for (const [sep, name] of [
    [';', /semicolons/],
    ['\t', /tabs/],
  ] as const) {
    const body =
      ['ts', 'sensor', 'room', 'metric', 'value', 'unit'].join(sep) +
      '\n' +
      [nextTs(), 'lim-semi', 'lab', 'temperature', '1', 'C'].join(sep) +
      '\n';
    const e = refused(await upload(httpPort, body), 400, 'missing_column');
    assert.match(e.message, name);
    assert.match(e.message, /comma/);
  }
});

test('a header over 256 columns, or with no line end within 64 KiB, is a 400', async () => {
  const { httpPort } = await hub();
  const wide = HEADER + Array.from({ length: 300 }, (_, i) => `,x${i}`).join('');
  refused(await upload(httpPort, csv([], wide)), 400, 'too_many_columns');
  refused(await upload(httpPort, HEADER + ',' + 'x'.repeat(70_000)), 400, 'missing_header');
});

// ---------------------------------------------------------------- one row

test('a row with a million extra fields is a bad row on its line, not memory: and so is a row over 64 KiB', async () => {
  const { httpPort } = await hub();
  const t = nextTs();
  const million = csv([
    `${t},lim-fields,lab,temperature,1,C`,
    `${t + 1},lim-fields,lab,temperature,2,C${','.repeat(1_000_000)}`,
    `${t + 2},lim-fields,lab,temperature,3,C`,
  ]);
  const e = refused(await upload(httpPort, million), 422, 'invalid_csv');
  assert.equal(
    e.rows?.map((r) => r.line),
    [3],
  );
  assert.match(e.rows![0]!.message, /longer than 65536 bytes/);
  const wideNote = csv([`${t},lim-fields,lab,temperature,1,C`], HEADER + ',note').replace('C\n', `C,${'n'.repeat(70_000)}\n`);
  assert.equal(
    refused(await upload(httpPort, wideNote), 422, 'invalid_csv').rows?.map((r) => r.line),
    [2],
  );
  await nothingStored(httpPort, 'lim-fields');
});

test('empty fields after the last column are ignored, as spreadsheets write them; any other extra field is a bad row', async () => {
  const { httpPort } = await hub();
  const t = nextTs();
  assert.equal(
    await uploadOk(httpPort, csv([`${t},lim-trailing,lab,temperature,1,C,,,`, `${t + 1},lim-trailing,lab,temperature,2,C,""`])),
    { accepted: 2, duplicates: 0 },
  );
  const e = refused(
    await upload(httpPort, csv([`${t + 2},lim-extra,lab,temperature,1,C,,x`, `${t + 3},lim-extra,lab,temperature,1,C, `])),
    422,
    'invalid_csv',
  );
  assert.equal(
    e.rows?.map((r) => r.line),
    [2, 3],
  );
  assert.match(e.rows![0]!.message, /8 fields; the header has 6/);
  await nothingStored(httpPort, 'lim-extra');
});

test('a file of more than 100,000 distinct series is a 413 too_many_series, and no sensor of it is registered', async () => {
  const { httpPort } = await hub();
  const t = nextTs();
  const rows = Array.from({ length: 100_001 }, (_, i) => `${t},lim-series-${i},lab,temperature,1,C`);
  const e = refused(await upload(httpPort, csv(rows)), 413, 'too_many_series');
  assert.match(e.message, /100000/);
  assert.not.ok((await sensors(httpPort)).some((s) => s.sensor.startsWith('lim-series-')));
});

// ---------------------------------------------------------------- ts

test('a ts more than 24 h ahead of the hub clock is a bad row; 23 h ahead is stored', async () => {
  // §1 Names and values: ts ≤ hub time + 24 h; the finding hid a sensor's latest with a future ts
  const { httpPort } = await hub();
  const now = Date.now();
  const e = refused(
    await upload(
      httpPort,
      csv([
        `${now + 23 * 3600_000},lim-future,lab,temperature,1,C`,
        `${now + 24 * 3600_000 + 60_000},lim-future,lab,temperature,2,C`,
        new Date(now + 48 * 3600_000).toISOString() + ',lim-future,lab,temperature,3,C',
      ]),
    ),
    422,
    'invalid_csv',
  );
  assert.equal(
    e.rows?.map((r) => r.line),
    [3, 4],
  );
  for (const r of e.rows!) assert.match(r.message, /more than 24 h ahead/);
  assert.equal(await uploadOk(httpPort, csv([`${now + 23 * 3600_000},lim-future,lab,temperature,1,C`])), { accepted: 1, duplicates: 0 });
});

test('an impossible date or offset is a bad row with what is wrong, never a rolled-over time', async () => {
  // The finding: 2026-02-30 and +25:00 were taken (as March 2 and as a day earlier)
  const { httpPort } = await hub();
  const cases: [string, RegExp][] = [
    ['2025-02-30T08:00:00Z', /2025-02 has no day 30/],
    ['2023-02-29T08:00:00Z', /has no day 29/],
    ['2025-11-21T08:00:00+25:00', /beyond ±14:00/],
    ['2025-11-21T24:00:00Z', /hour 24/],
    ['2025-11-21T08:00:00', /no time zone/],
    ['2025-11-21t08:00:00z', /not ISO 8601/],
  ];
  const e = refused(await upload(httpPort, csv(cases.map(([ts]) => `${ts},lim-dates,lab,temperature,1,C`))), 422, 'invalid_csv');
  assert.equal(
    e.rows?.map((r) => r.line),
    cases.map((_, i) => i + 2),
  );
  e.rows!.forEach((r, i) => assert.match(r.message, cases[i]![1], r.message));
  assert.equal(
    await uploadOk(
      httpPort,
      csv(['2024-02-29T08:00:00Z,lim-dates,lab,temperature,1,C', '2025-11-21T22:00+14:00,lim-dates,lab,temperature,2,C']),
    ),
    { accepted: 2, duplicates: 0 },
  );
});

test.run();
