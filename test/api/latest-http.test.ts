// docs/API.md `GET /api/v1/latest` over HTTP: an unchanged answer is a 304 for the ETag the
// client has, a client that accepts gzip gets the same JSON gzipped, and one that refuses it
// (q=0) or names no coding gets plain JSON. Filters by sensor or metric are answered afresh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET with exactly these headers (fetch would add its own Accept-Encoding and unpack). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.end();
  });
}

/** A hub with one sensor of 30 metrics (an answer of some 3 KB), and that sensor. */
async function hubWithReadings() {
  const hub = await startHub();
  const s = await connect(hub.tcpPort);
  await s.hello('lh-sensor', 'lab');
  const ts = Date.now() - 60_000;
  const readings = Array.from({ length: 30 }, (_, i) => ({ metric: `m${i}`, value: i, unit: 'u', ts }));
  await s.send({ type: 'batch', seq: 1, readings });
  await s.ackCovering(1);
  return { ...hub, sensor: s, ts };
}

test('gzip when accepted, the same JSON as without; an ETag and Vary on both', async () => {
  const { httpPort } = await hubWithReadings();
  const plain = await get(httpPort, '/api/v1/latest', { 'accept-encoding': 'identity' });
  const gz = await get(httpPort, '/api/v1/latest', { 'accept-encoding': 'br, gzip;q=0.8' });
  assert.is(plain.status, 200);
  assert.is(plain.headers['content-encoding'], undefined);
  assert.is(gz.headers['content-encoding'], 'gzip');
  assert.ok(gz.body.length < plain.body.length / 2, `${gz.body.length} bytes gzipped, ${plain.body.length} plain`);
  assert.equal(gunzipSync(gz.body), plain.body);
  assert.is((JSON.parse(plain.body.toString('utf8')) as { readings: unknown[] }).readings.length, 30);
  for (const r of [plain, gz]) {
    assert.match(String(r.headers.vary), /accept-encoding/i);
    assert.match(String(r.headers['content-type']), /^application\/json/);
  }
  assert.ok(plain.headers.etag, 'an ETag');
  assert.is(gz.headers.etag, plain.headers.etag, 'the same answer, gzipped or not');
  const refused = await get(httpPort, '/api/v1/latest', { 'accept-encoding': 'gzip;q=0, *;q=0.5' });
  assert.is(refused.headers['content-encoding'], undefined, 'gzip;q=0 refuses gzip');
  assert.equal(refused.body, plain.body);
  const none = await get(httpPort, '/api/v1/latest');
  assert.is(none.headers['content-encoding'], undefined, 'no Accept-Encoding: plain');
});

test('If-None-Match with the current ETag is a 304 with no body, until a new reading changes the answer', async () => {
  const { httpPort, sensor, ts } = await hubWithReadings();
  const first = await get(httpPort, '/api/v1/latest');
  const etag = String(first.headers.etag);
  const again = await get(httpPort, '/api/v1/latest', { 'if-none-match': etag, 'accept-encoding': 'gzip' });
  assert.is(again.status, 304);
  assert.is(again.body.length, 0);
  assert.is(again.headers.etag, etag);
  const other = await get(httpPort, '/api/v1/latest', { 'if-none-match': 'W/"not-this-one"' });
  assert.is(other.status, 200);
  assert.equal(other.body, first.body);

  await sensor.send({ type: 'reading', metric: 'm0', value: 99, unit: 'u', ts: ts + 1_000, seq: 2 });
  await sensor.ackCovering(2);
  const changed = await get(httpPort, '/api/v1/latest', { 'if-none-match': etag });
  assert.is(changed.status, 200, 'a new reading: the new answer, not a 304');
  assert.not.equal(changed.headers.etag, etag);
  const m0 = (JSON.parse(changed.body.toString('utf8')) as { readings: { metric: string; value: number }[] }).readings.find(
    (r) => r.metric === 'm0',
  );
  assert.is(m0?.value, 99);
});

test('filtered by sensor or metric: answered afresh, with no ETag to revalidate', async () => {
  const { httpPort } = await hubWithReadings();
  const r = await get(httpPort, '/api/v1/latest?metric=m1', { 'if-none-match': '*' });
  assert.is(r.status, 200);
  assert.is(r.headers.etag, undefined);
  assert.is((JSON.parse(r.body.toString('utf8')) as { readings: unknown[] }).readings.length, 1);
});

test.run();
