// Contract §2 "GET /metrics: Prometheus text exposition: the hub's own counters and the latest
// readings". The names are the hub's (docs), checked here as a user's dashboard would use them:
// counters that move when the thing they count happens, and a gauge per latest reading.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorBody, postJson, request, uploadOk, waitFor } from '../support/api-client.ts';
import { latest } from '../support/http.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { find, parseExposition, value, type Exposition } from '../support/prometheus.ts';
import { openStream } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

async function scrape(): Promise<Exposition> {
  const { httpPort } = await hub();
  const res = await request(httpPort, '/metrics');
  assert.is(res.status, 200);
  return parseExposition(res.text);
}

async function welcomed(id: string, room: string) {
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello(id, room);
  return s;
}

test('GET /metrics is Prometheus text, version 0.0.4, with the hub’s counters typed', async () => {
  // §2 GET /metrics: "Prometheus text exposition"
  const { httpPort } = await hub();
  const res = await request(httpPort, '/metrics');
  assert.is(res.status, 200);
  const type = String(res.headers['content-type']);
  assert.ok(/^text\/plain;\s*version=0\.0\.4(;\s*charset=utf-8)?$/i.test(type), `content type: ${type}`);
  const e = parseExposition(res.text); // throws on a line that is not the format
  for (const [name, kind] of [
    ['roomwatch_readings_stored_total', 'counter'],
    ['roomwatch_rejected_total', 'counter'],
    ['roomwatch_duplicates_total', 'counter'],
    ['roomwatch_report_now_rounds_total', 'counter'],
    ['roomwatch_stream_subscribers', 'gauge'],
    ['roomwatch_reading', 'gauge'],
  ] as const) {
    // prom-client names a counter's family with or without _total; accept both.
    const declared = e.types.get(name) ?? e.types.get(name.replace(/_total$/, ''));
    assert.is(declared, kind, `# TYPE of ${name}`);
  }
  for (const name of [
    'roomwatch_readings_stored_total',
    'roomwatch_duplicates_total',
    'roomwatch_report_now_rounds_total',
    'roomwatch_stream_subscribers',
  ])
    assert.is(find(e, name).length, 1, `one sample of ${name}`);
});

test('GET /metrics with a parameter is refused with 400 bad_parameter, as latest and history refuse unknown ones', async () => {
  // §2 "Errors"; docs/API.md "Filters": a parameter a route does not take is a 400, not an answer wider than asked
  const { httpPort } = await hub();
  for (const query of ['?room=greenhouse', '?name[]=roomwatch_reading', '?__proto__=1']) {
    const res = await request(httpPort, `/metrics${query}`);
    assert.is(res.status, 400, `${query}: ${res.text.slice(0, 200)}`);
    assert.is(errorBody(res).code, 'bad_parameter', query);
  }
});

test('roomwatch_readings_stored_total grows by the readings stored', async () => {
  // §2 GET /metrics: the hub's own counters
  const s = await welcomed('mx-stored', 'mx-room');
  const before = value(await scrape(), 'roomwatch_readings_stored_total');
  const ts = nextTs();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 1, ts },
      { metric: 'humidity', value: 2, ts },
      { metric: 'cpu_load', value: 3, ts },
    ],
  });
  await s.ackCovering(1);
  const after = value(await scrape(), 'roomwatch_readings_stored_total');
  // Other tests' sensors are gone; only ours stored since.
  assert.is(after - before, 3);
});

test('readings stored by an upload count in roomwatch_readings_stored_total too', async () => {
  // §2 GET /metrics: "the hub's own counters"; an upload stores readings like a sensor does
  const { httpPort } = await hub();
  const before = value(await scrape(), 'roomwatch_readings_stored_total');
  await uploadOk(
    httpPort,
    'ts,sensor,room,metric,value,unit\n2025-11-21T08:00:00.000Z,mx-upload,mx-room,temperature,1,C\n2025-11-21T08:00:01.000Z,mx-upload,mx-room,temperature,2,C\n',
  );
  assert.is(value(await scrape(), 'roomwatch_readings_stored_total') - before, 2);
});

test('roomwatch_rejected_total{code="400"} counts a bad line, and {code="422"} a bad value', async () => {
  // §2 GET /metrics; §1 error codes 400 (not JSON) and 422 (a value breaks a rule)
  const s = await welcomed('mx-rejected', 'mx-room');
  const before = await scrape();
  await s.sendRaw('this is not json\n');
  assert.is((await s.next({ type: 'error' })).code, 400);
  await s.send({ type: 'reading', metric: 'Bad-Metric', value: 1, ts: nextTs(), seq: 1 });
  assert.is((await s.next({ type: 'error' })).code, 422);
  const after = await scrape();
  assert.is(value(after, 'roomwatch_rejected_total', { code: '400' }) - value(before, 'roomwatch_rejected_total', { code: '400' }), 1);
  assert.is(value(after, 'roomwatch_rejected_total', { code: '422' }) - value(before, 'roomwatch_rejected_total', { code: '422' }), 1);
});

test('roomwatch_duplicates_total counts a duplicate', async () => {
  // §2 GET /metrics; §1 Identity: a repeat is a duplicate
  const s = await welcomed('mx-dup', 'mx-room');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 });
  await s.ackCovering(1);
  const before = value(await scrape(), 'roomwatch_duplicates_total');
  await s.send({ type: 'reading', metric: 'temperature', value: 2, ts, seq: 2 });
  await s.ackCovering(2);
  assert.is(value(await scrape(), 'roomwatch_duplicates_total') - before, 1);
});

test('roomwatch_stream_subscribers counts open subscriptions', async () => {
  // §2 GET /metrics; §2 Live stream
  const { httpPort } = await hub();
  const subscribers = async () => value(await scrape(), 'roomwatch_stream_subscribers');
  const before = await subscribers();
  const a = await openStream(httpPort);
  await a.subscribe({ sensor: 'mx-nobody', replay: 0 });
  const b = await openStream(httpPort);
  await b.subscribe({ sensor: 'mx-nobody', replay: 0 });
  assert.is(await subscribers(), before + 2);
  await a.close();
  await waitFor('one subscriber fewer after a close', async () => (await subscribers()) === before + 1);
  await b.close();
  await waitFor('back to where it was', async () => (await subscribers()) === before);
});

test('roomwatch_report_now_rounds_total counts report-now requests', async () => {
  // §2 GET /metrics; §2 Report now
  const { httpPort } = await hub();
  const before = value(await scrape(), 'roomwatch_report_now_rounds_total');
  for (let i = 0; i < 2; i++)
    assert.is((await postJson(httpPort, '/api/v1/report-now', { sensor: 'mx-nobody', timeout_ms: 0 })).status, 200);
  assert.is(value(await scrape(), 'roomwatch_report_now_rounds_total') - before, 2);
});

test('roomwatch_reading{sensor,room,metric,unit} equals the latest value of each series', async () => {
  // §2 GET /metrics: "and the latest readings"
  const { httpPort } = await hub();
  const s = await welcomed('mx-gauge', 'mx-gauge-room');
  const ts = nextTs();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 21.5, ts },
      { metric: 'humidity', value: 40.25, ts },
      { metric: 'lux', value: -3, unit: 'lx', ts },
    ],
  });
  await s.send({ type: 'reading', metric: 'temperature', value: 22.75, ts: ts + 1000, seq: 2 });
  await s.send({ type: 'reading', metric: 'temperature', value: 99, ts: ts - 1000, seq: 3 }); // older: latest stays
  await s.ackCovering(3);
  const e = await scrape();
  const gauges = find(e, 'roomwatch_reading', { sensor: 'mx-gauge' })
    .map((g) => [g.labels.room, g.labels.metric, g.labels.unit, g.value])
    .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
  assert.equal(gauges, [
    ['mx-gauge-room', 'humidity', '%', 40.25],
    ['mx-gauge-room', 'lux', 'lx', -3],
    ['mx-gauge-room', 'temperature', 'C', 22.75],
  ]);
  // And every latest reading of the hub has its gauge with that value.
  for (const r of await latest(httpPort)) {
    const g = find(e, 'roomwatch_reading', { sensor: r.sensor, metric: r.metric });
    assert.is(g.length, 1, `one gauge for ${r.sensor}/${r.metric}`);
    assert.equal([g[0]!.labels.room, g[0]!.labels.unit, g[0]!.value], [r.room, r.unit, r.value], `${r.sensor}/${r.metric}`);
  }
});

test.run();
