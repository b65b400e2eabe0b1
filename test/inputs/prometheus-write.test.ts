// Prometheus remote write 1.0 at POST /api/v1/write (docs/API.md "Prometheus remote write"):
// 2xx after commit, 4xx for what must not be sent again, 5xx with Retry-After to send again;
// the mapping of instance, __name__, labels and room; NaN and stale markers skipped, counted.
// The bodies are encoded by hand here (protobuf wire format, snappy), apart from the hub's decoder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compressSync } from 'snappy';
import { request, json, type RawResponse } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { latest, sensors } from '../support/http.ts';
import { createSensorToken, seedDemo } from '../support/access-setup.ts';
import { parseExposition } from '../support/prometheus.ts';
import { perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
/** Prometheus's stale marker: a NaN with these exact bits. */
const STALE_BITS = 0x7ff0000000000002n;

type Value = number | { bits: bigint };
interface Series {
  labels: Record<string, string>;
  samples: [Value, number][];
}

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function field(tag: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), varint(BigInt(payload.length)), payload]);
}

function sample(value: Value, ts: number): Buffer {
  const d = Buffer.alloc(8);
  if (typeof value === 'number') d.writeDoubleLE(value);
  else d.writeBigUInt64LE(value.bits);
  return Buffer.concat([Buffer.from([0x09]), d, Buffer.from([0x10]), varint(BigInt(ts))]);
}

/** prometheus.WriteRequest { repeated TimeSeries timeseries = 1 }, TimeSeries { labels = 1; samples = 2 }. */
function writeRequest(series: Series[]): Buffer {
  return Buffer.concat(
    series.map((s) =>
      field(
        0x0a,
        Buffer.concat([
          ...Object.entries(s.labels).map(([name, value]) =>
            field(0x0a, Buffer.concat([field(0x0a, Buffer.from(name)), field(0x12, Buffer.from(value))])),
          ),
          ...s.samples.map(([v, ts]) => field(0x12, sample(v, ts))),
        ]),
      ),
    ),
  );
}

function remoteWrite(port: number, body: Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(port, '/api/v1/write', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      ...headers,
    },
    body,
  });
}

test('samples become readings once committed: sensor from instance, metric from __name__ and the other labels, room', async () => {
  const hub = await startHub();
  const body = writeRequest([
    { labels: { __name__: 'node_load1', instance: '127.0.0.1:9100', job: 'node' }, samples: [[0.5, T0]] },
    {
      labels: { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle', instance: '127.0.0.1:9100', job: 'node' },
      samples: [
        [100, T0],
        [101, T0 + 1000],
      ],
    },
    { labels: { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'user', instance: '127.0.0.1:9100' }, samples: [[7, T0]] },
    { labels: { __name__: 'ups_Load', instance: 'ups-1', room: 'server-room' }, samples: [[40, T0]] },
    { labels: { __name__: 'up', instance: '127.0.0.1:9100', sensor: 'node-a' }, samples: [[1, T0]] },
  ]);
  const res = await remoteWrite(hub.httpPort, compressSync(body));
  assert.is(res.status, 204, res.text);
  const rows = (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.room}/${r.metric}/${r.value}/${r.ts}`);
  assert.equal(rows, [
    `127.0.0.1:9100/default/node_cpu_seconds_total_cpu_0_mode_idle/101/${T0 + 1000}`,
    `127.0.0.1:9100/default/node_cpu_seconds_total_cpu_0_mode_user/7/${T0}`,
    `127.0.0.1:9100/default/node_load1/0.5/${T0}`,
    `node-a/default/up/1/${T0}`,
    `ups-1/server-room/ups_load/40/${T0}`,
  ]);
  const listed = await sensors(hub.httpPort);
  assert.ok(listed.every((s) => (s as { source?: string }).source === 'prometheus'));
});

test('NaN samples and stale markers are skipped and counted in /metrics; the rest is stored with 204', async () => {
  const hub = await startHub();
  const body = writeRequest([
    {
      labels: { __name__: 'm', instance: 'i1' },
      samples: [
        [1, T0],
        [NaN, T0 + 1],
        [{ bits: STALE_BITS }, T0 + 2],
      ],
    },
  ]);
  const res = await remoteWrite(hub.httpPort, compressSync(body));
  assert.is(res.status, 204, res.text);
  assert.equal(
    (await latest(hub.httpPort)).map((r) => r.value),
    [1],
  );
  const page = parseExposition((await request(hub.httpPort, '/metrics')).text);
  const refused = (reason: string) =>
    page.samples.find((s) => s.name === 'roomwatch_input_refused_total' && s.labels.source === 'prometheus' && s.labels.reason === reason)
      ?.value;
  assert.is(refused('nan'), 1);
  assert.is(refused('stale'), 1);
  assert.is(page.samples.find((s) => s.name === 'roomwatch_input_readings_total' && s.labels.source === 'prometheus')?.value, 1);
});

test('a sample that breaks the rules: 400 (not sent again) naming its series, and the others stored', async () => {
  const hub = await startHub();
  const body = writeRequest([
    { labels: { __name__: 'good', instance: 'i1' }, samples: [[1, T0]] },
    { labels: { __name__: 'old', instance: 'i1' }, samples: [[2, 1000]] },
    { labels: { __name__: 'x', instance: 'bad instance' }, samples: [[3, T0]] },
  ]);
  const res = await remoteWrite(hub.httpPort, compressSync(body));
  assert.is(res.status, 400);
  const { error } = json<{ error: { code: string; message: string } }>(res);
  assert.is(error.code, 'bad_request');
  assert.match(error.message, '2 samples were not stored, 1 were');
  assert.match(error.message, 'old{instance="i1"}: ts 1000 is before the year 2000');
  assert.match(error.message, 'x{instance="bad instance"}: sensor id "bad instance"');
  assert.equal(
    (await latest(hub.httpPort)).map((r) => r.metric),
    ['good'],
  );
});

test('malformed bodies: not snappy or not protobuf 400, over the limit once decompressed 413, remote write 2.0 415', async () => {
  const hub = await startHub();
  assert.is((await remoteWrite(hub.httpPort, Buffer.from('plain text'))).status, 400);
  assert.is((await remoteWrite(hub.httpPort, compressSync(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])))).status, 400);
  // A snappy block whose header says 100 MB: refused before anything is decompressed.
  const huge = Buffer.concat([varint(100_000_000n), Buffer.alloc(16)]);
  const tooLarge = await remoteWrite(hub.httpPort, huge);
  assert.is(tooLarge.status, 413);
  assert.is(json<{ error: { code: string } }>(tooLarge).error.code, 'too_large');
  const v2 = await remoteWrite(hub.httpPort, compressSync(writeRequest([])), {
    'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  });
  assert.is(v2.status, 415);
  assert.is((await remoteWrite(hub.httpPort, compressSync(writeRequest([])), { 'content-encoding': 'gzip' })).status, 415);
});

test('a store that cannot commit: 503 with Retry-After, so Prometheus sends the samples again', async () => {
  const hub = await startHub({ storeFaults: { seed: 2, commitFailureRate: 1, commitDelayMs: 0 }, storeUnavailableAfterMs: 300 });
  const res = await remoteWrite(
    hub.httpPort,
    compressSync(writeRequest([{ labels: { __name__: 'm', instance: 'i' }, samples: [[1, T0]] }])),
  );
  assert.is(res.status, 503);
  assert.ok(Number(res.headers['retry-after']) > 0);
});

test('where the hub asks for sensor tokens: none or a wrong one 401; a token writes its sensors', async () => {
  const hub = await startHub();
  const { root } = await seedDemo(hub.httpPort);
  const token = await createSensorToken(hub.httpPort, { sensor: 'node-*', rooms: ['*'] }, root);
  const body = compressSync(writeRequest([{ labels: { __name__: 'up', instance: 'node-1' }, samples: [[1, T0]] }]));
  assert.is((await remoteWrite(hub.httpPort, body)).status, 401);
  assert.is((await remoteWrite(hub.httpPort, body, { authorization: 'Bearer wrong' })).status, 401);
  const ok = await remoteWrite(hub.httpPort, body, { authorization: `Bearer ${token.token}` });
  assert.is(ok.status, 204, ok.text);
});

test.run();
