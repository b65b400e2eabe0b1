// Contract §2 "Live stream: GET /api/v1/stream (WebSocket)": subscribe and replay, filters,
// live order, never a duplicate, readings from uploads and reports, a slow subscriber that
// must not slow anyone else, and bad subscribes. "Nothing more came" is proved with a
// sentinel: a later reading that matches the same subscription, whose arrival means every
// earlier committed reading would have arrived before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postJson, uploadOk } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { openStream, type StreamClient, type StreamReading } from '../support/stream-client.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const RAW_HEADER = 'ts,sensor,room,metric,value,unit';
const csv = (rows: string[]): string => [RAW_HEADER, ...rows].join('\n') + '\n';

async function sensor(id: string, room: string): Promise<TcpSensor> {
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello(id, room);
  return s;
}

async function stream(): Promise<StreamClient> {
  const { httpPort } = await hub();
  return openStream(httpPort);
}

/** Stores `n` temperature readings at ts t0, t0+1, ... (value i) in one batch and waits for the ack. */
async function storeSeries(s: TcpSensor, t0: number, n: number, seq: number, metric = 'temperature'): Promise<void> {
  for (let done = 0; done < n; done += 1000) {
    const k = Math.min(1000, n - done);
    await s.send({
      type: 'batch',
      seq: seq + done / 1000,
      readings: Array.from({ length: k }, (_, i) => ({ metric, value: done + i, ts: t0 + done + i })),
    });
  }
  await s.ackCovering(seq + Math.ceil(n / 1000) - 1, 20_000);
}

const readingsOf = (c: StreamClient): StreamReading[] => c.received.filter((m) => m.type === 'reading') as unknown as StreamReading[];
const brief = (r: StreamReading): string => `${r.sensor}/${r.metric}@${r.ts}=${r.value}`;

// ---------------------------------------------------------------- replay and live

test('subscribe answers subscribed with replayed K, then the K newest stored readings oldest first, then live readings in order', async () => {
  // §2 Live stream: "answers {type:subscribed, replayed:K}, first sends the K matching stored readings with the largest ts (oldest of them first), then each newly stored matching reading"
  const s = await sensor('st-replay', 'st-replay-room');
  const t0 = nextTs();
  // Stored out of order: the replay is by ts, not by arrival.
  await s.send({
    type: 'batch',
    seq: 1,
    readings: Array.from({ length: 15 }, (_, i) => ({ metric: 'temperature', value: 14 - i, ts: t0 + 14 - i })),
  });
  await s.ackCovering(1);
  const c = await stream();
  assert.equal(await c.subscribe({ sensor: 'st-replay', replay: 5 }), { replayed: 5 });
  const replay = await c.readings(5);
  assert.equal(
    replay.map((r) => r.ts),
    [10, 11, 12, 13, 14].map((i) => t0 + i),
  );
  assert.equal(replay[0], {
    type: 'reading',
    sensor: 'st-replay',
    room: 'st-replay-room',
    metric: 'temperature',
    value: 10,
    unit: 'C',
    ts: t0 + 10,
  });
  assert.is(c.received[0]?.type, 'subscribed', 'subscribed comes before the replay');

  for (let i = 0; i < 5; i++) await s.send({ type: 'reading', metric: 'temperature', value: 100 + i, ts: t0 + 100 + i, seq: 2 + i });
  const live = await c.readings(5);
  assert.equal(
    live.map((r) => [r.value, r.ts]),
    [0, 1, 2, 3, 4].map((i) => [100 + i, t0 + 100 + i]),
  );
  for (const r of [...replay, ...live]) assert.equal(Object.keys(r).sort(), ['metric', 'room', 'sensor', 'ts', 'type', 'unit', 'value']);
});

test('without replay the last 10 are replayed, with replay 0 none', async () => {
  // §2 Live stream: "replay default 10"
  const s = await sensor('st-default', 'st-default-room');
  const t0 = nextTs();
  await storeSeries(s, t0, 15, 1);
  const c = await stream();
  assert.equal(await c.subscribe({ sensor: 'st-default' }), { replayed: 10 });
  assert.equal(
    (await c.readings(10)).map((r) => r.ts),
    Array.from({ length: 10 }, (_, i) => t0 + 5 + i),
  );

  const none = await stream();
  assert.equal(await none.subscribe({ sensor: 'st-default', replay: 0 }), { replayed: 0 });
  await s.send({ type: 'reading', metric: 'temperature', value: 99, ts: t0 + 1000, seq: 9 });
  assert.equal(
    (await none.readings(1)).map((r) => r.ts),
    [t0 + 1000],
    'the first reading is the live one',
  );
  assert.equal(
    (await c.readings(1)).map((r) => r.ts),
    [t0 + 1000],
  );
});

test('a replay of more than 1000 is taken as 1000: the 1000 newest, oldest first', async () => {
  // §2 Live stream: "replay ... larger than 1000 is taken as 1000"
  const s = await sensor('st-cap', 'st-cap-room');
  const t0 = nextTs();
  await storeSeries(s, t0, 1_200, 1);
  const c = await stream();
  const { replayed } = await c.subscribe({ sensor: 'st-cap', replay: 5_000 });
  assert.ok(replayed <= 1000, `replayed ${replayed}`);
  assert.is(replayed, 1000, 'more than 1000 are stored, so 1000 are replayed');
  const replay = await c.readings(1000, 30_000);
  assert.equal(
    replay.map((r) => r.ts),
    Array.from({ length: 1000 }, (_, i) => t0 + 200 + i),
  );
  await s.send({ type: 'reading', metric: 'temperature', value: -1, ts: t0 + 5_000, seq: 100 });
  assert.equal(
    (await c.readings(1)).map((r) => r.ts),
    [t0 + 5_000],
    'then live, with nothing replayed twice',
  );
});

test('filters apply to the replay and to live readings', async () => {
  // §2 Filters on stream: sensor, room, metric, a value, a comma list or an array; all must match
  const a = await sensor('st-filt-a', 'st-filt-r1');
  const b = await sensor('st-filt-b', 'st-filt-r2');
  const t0 = nextTs();
  await a.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 1, ts: t0 },
      { metric: 'humidity', value: 2, ts: t0 },
    ],
  });
  await b.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 3, ts: t0 },
      { metric: 'humidity', value: 4, ts: t0 },
    ],
  });
  await a.ackCovering(1);
  await b.ackCovering(1);

  const byRoomMetric = await stream();
  assert.equal(await byRoomMetric.subscribe({ room: 'st-filt-r1', metric: 'humidity', replay: 100 }), { replayed: 1 });
  const byArray = await stream();
  assert.equal(await byArray.subscribe({ sensor: ['st-filt-a', 'st-filt-b'], metric: 'temperature', replay: 100 }), { replayed: 2 });
  const byList = await stream();
  assert.equal(await byList.subscribe({ sensor: 'st-filt-b,st-filt-nobody', replay: 100 }), { replayed: 2 });

  assert.equal((await byRoomMetric.readings(1)).map(brief), [`st-filt-a/humidity@${t0}=2`]);
  assert.equal((await byArray.readings(2)).map(brief).sort(), [`st-filt-a/temperature@${t0}=1`, `st-filt-b/temperature@${t0}=3`]);
  assert.equal((await byList.readings(2)).map(brief).sort(), [`st-filt-b/humidity@${t0}=4`, `st-filt-b/temperature@${t0}=3`]);

  // Live: b first (acked), then a; each client's first live reading is the first that matches it.
  await b.send({
    type: 'batch',
    seq: 2,
    readings: [
      { metric: 'temperature', value: 5, ts: t0 + 1 },
      { metric: 'humidity', value: 6, ts: t0 + 1 },
    ],
  });
  await b.ackCovering(2);
  await a.send({
    type: 'batch',
    seq: 2,
    readings: [
      { metric: 'temperature', value: 7, ts: t0 + 1 },
      { metric: 'humidity', value: 8, ts: t0 + 1 },
    ],
  });
  await a.ackCovering(2);
  assert.equal((await byRoomMetric.readings(1)).map(brief), [`st-filt-a/humidity@${t0 + 1}=8`]);
  assert.equal((await byArray.readings(2)).map(brief), [`st-filt-b/temperature@${t0 + 1}=5`, `st-filt-a/temperature@${t0 + 1}=7`]);
  assert.equal((await byList.readings(2)).map(brief).sort(), [`st-filt-b/humidity@${t0 + 1}=6`, `st-filt-b/temperature@${t0 + 1}=5`]);
  // Nothing else reached them (the a readings came after every b reading).
  assert.equal(
    readingsOf(byRoomMetric).map((r) => r.sensor + '/' + r.metric),
    ['st-filt-a/humidity', 'st-filt-a/humidity'],
  );
  assert.is(readingsOf(byArray).length, 4);
  await b.send({ type: 'reading', metric: 'humidity', value: 9, ts: t0 + 2, seq: 3 });
  assert.equal((await byList.readings(1)).map(brief), [`st-filt-b/humidity@${t0 + 2}=9`]);
  assert.is(readingsOf(byList).length, 5, 'byList saw none of a');
});

// ---------------------------------------------------------------- what is streamed

test('duplicates are never streamed: the same identity sent twice is one stream message', async () => {
  // §2 Live stream: "each newly stored matching reading (...; never a duplicate)"
  const s = await sensor('st-dup', 'st-dup-room');
  const c = await stream();
  await c.subscribe({ sensor: 'st-dup', replay: 0 });
  const t = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: t, seq: 1 });
  await s.ackCovering(1);
  await s.send({ type: 'reading', metric: 'temperature', value: 2, ts: t, seq: 2 });
  await s.send({
    type: 'batch',
    seq: 3,
    readings: [
      { metric: 'temperature', value: 3, ts: t },
      { metric: 'temperature', value: 4, ts: t + 1 },
      { metric: 'temperature', value: 5, ts: t + 1 },
    ],
  });
  await s.ackCovering(3);
  // A resend on a new connection is a duplicate too.
  await s.close();
  const again = await sensor('st-dup', 'st-dup-room');
  await again.send({ type: 'reading', metric: 'temperature', value: 6, ts: t, seq: 1 });
  await again.send({ type: 'reading', metric: 'temperature', value: 7, ts: t + 2, seq: 2 });
  await again.ackCovering(2);
  const got = await c.readings(3);
  assert.equal(
    got.map((r) => [r.ts, r.value]),
    [
      [t, 1],
      [t + 1, 4],
      [t + 2, 7],
    ],
  );
  assert.is(readingsOf(c).length, 3);
});

test('the new rows of an upload are streamed, its duplicates are not', async () => {
  // §2 Live stream: "each newly stored matching reading (from sensors, reports and uploads; never a duplicate)"
  const { httpPort } = await hub();
  const t = Date.parse('2025-11-21T08:00:00.000Z');
  await uploadOk(httpPort, csv([`${t},st-up,st-up-room,temperature,1,C`]));
  const c = await stream();
  await c.subscribe({ sensor: 'st-up', replay: 0 });
  assert.equal(
    await uploadOk(
      httpPort,
      csv([
        `${t},st-up,st-up-room,temperature,9,C`,
        `${t + 1},st-up,st-up-room,temperature,2,C`,
        `${t + 2},st-up,st-up-room,humidity,3,%`,
        `${t + 1},st-up,st-up-room,temperature,8,C`,
        `${t},st-up-other,st-up-room,temperature,4,C`,
      ]),
    ),
    { accepted: 3, duplicates: 2 },
  );
  const got = await c.readings(2);
  assert.equal(got.map(brief).sort(), [`st-up/humidity@${t + 2}=3`, `st-up/temperature@${t + 1}=2`]);
  assert.equal(
    got.find((r) => r.metric === 'humidity'),
    { type: 'reading', sensor: 'st-up', room: 'st-up-room', metric: 'humidity', value: 3, unit: '%', ts: t + 2 },
  );
  await uploadOk(httpPort, csv([`${t + 10},st-up,st-up-room,temperature,10,C`]));
  assert.equal(
    (await c.readings(1)).map((r) => r.ts),
    [t + 10],
    'the sentinel: nothing came between',
  );
});

test('every new matching row of a large upload is streamed, also when the upload has many newer rows of other sensors', async () => {
  // §2 Live stream: "each newly stored matching reading (from ... uploads ...)"; only a slow client may lose messages, and is told
  const { httpPort } = await hub();
  const t = Date.parse('2025-10-01T00:00:00.000Z');
  const rows = [`${t},st-bulk-a,st-bulk-room,temperature,1,C`, `${t + 1},st-bulk-a,st-bulk-room,temperature,2,C`];
  for (let i = 0; i < 12_000; i++) rows.push(`${t + 1000 + i},st-bulk-b,st-bulk-room,temperature,${i},C`);
  const c = await stream();
  await c.subscribe({ sensor: 'st-bulk-a', replay: 0 });
  assert.equal(await uploadOk(httpPort, csv(rows)), { accepted: 12_002, duplicates: 0 });
  await uploadOk(httpPort, csv([`${t + 100_000},st-bulk-a,st-bulk-room,temperature,3,C`]));
  // The sentinel comes after both rows of the big upload would have.
  await c.next({ type: 'reading', ts: t + 100_000 }, 30_000);
  assert.equal(
    c.received.filter((m) => m.type !== 'subscribed').map((m) => (m.type === 'reading' ? [m.ts, m.value] : m)),
    [
      [t, 1],
      [t + 1, 2],
      [t + 100_000, 3],
    ],
  );
});

test('readings from a report-now answer are streamed', async () => {
  // §2 Report now: "The reported readings are stored, and show in ... stream"
  const { httpPort } = await hub();
  const s = await sensor('st-report', 'st-report-room');
  const c = await stream();
  await c.subscribe({ room: 'st-report-room', replay: 0 });
  const ts = nextTs();
  const answering = (async () => {
    const cmd = await s.next({ type: 'command' }, 20_000);
    await s.send({ type: 'report', id: cmd.id, seq: 1, readings: [{ metric: 'humidity', value: 44.5, ts }] });
  })();
  const res = await postJson(httpPort, '/api/v1/report-now', { sensor: 'st-report', timeout_ms: 10_000 });
  assert.is(res.status, 200);
  await answering;
  assert.equal(await c.readings(1), [
    { type: 'reading', sensor: 'st-report', room: 'st-report-room', metric: 'humidity', value: 44.5, unit: '%', ts },
  ]);
});

// ---------------------------------------------------------------- slow subscribers

test('a stalled subscriber slows neither ingest nor a fast subscriber, and on resuming is told what it lost (or closed with 1013)', async () => {
  // §2 Live stream: "A slow client must not slow the hub or other clients: the hub drops that client's oldest unsent messages and then sends {type:dropped,count:N}, or closes the WebSocket with code 1013"
  // A small per-subscriber queue so the stalled client overflows after a few MB, not tens.
  const { httpPort, tcpPort } = await startHub({ streamMaxQueuedMessages: 2_000 });
  const id = 'st-slow-source-with-a-rather-long-sensor-name-0123456789';
  const room = 'st-slow-room-with-a-rather-long-room-name-0123456789';
  const fast = await openStream(httpPort);
  const slow = await openStream(httpPort);
  await fast.subscribe({ sensor: id, replay: 0 });
  await slow.subscribe({ sensor: id, replay: 0 });
  slow.pause();

  const s = await connect(tcpPort);
  await s.hello(id, room);
  const t0 = nextTs() - 600_000;
  const batches = 60;
  const perBatch = 1_000;
  const total = batches * perBatch;
  let worstAckMs = 0;
  for (let k = 0; k < batches; k++) {
    const readings = Array.from({ length: perBatch }, (_, i) => ({ metric: 't', value: k * perBatch + i, ts: t0 + k * perBatch + i }));
    const sent = performance.now();
    await s.sendRaw(line({ type: 'batch', seq: k + 1, readings }));
    await s.ackCovering(k + 1, 10_000);
    worstAckMs = Math.max(worstAckMs, performance.now() - sent);
    // The fast subscriber gets every reading of the batch, in order, while the slow one is stalled.
    const got = await fast.readings(perBatch, 20_000);
    assert.is(got[0]!.ts, t0 + k * perBatch, `batch ${k}: first`);
    assert.is(got[perBatch - 1]!.ts, t0 + (k + 1) * perBatch - 1, `batch ${k}: last`);
  }
  assert.equal(
    fast.received.filter((m) => m.type !== 'reading' && m.type !== 'subscribed'),
    [],
    'the fast subscriber lost nothing',
  );
  assert.equal(
    readingsOf(fast).map((r) => r.ts),
    Array.from({ length: total }, (_, i) => t0 + i),
  );
  assert.ok(worstAckMs < 5_000, `acks kept coming: the slowest took ${worstAckMs.toFixed(0)} ms`);
  assert.ok(readingsOf(slow).length < total, 'the slow subscriber really was stalled');

  slow.resume();
  // Either it is closed with 1013, or it receives its backlog with dropped markers, up to the last reading.
  const lastTs = t0 + total - 1;
  const end = await Promise.race([
    slow.closed(20_000).then((code) => ({ closed: code })),
    slow.next((m) => m.type === 'reading' && m.ts === lastTs, 20_000).then(() => ({ closed: null })),
  ]).catch((err: Error) => {
    const got = readingsOf(slow);
    throw new Error(
      `after resuming, the slow subscriber neither got the last reading (ts ${lastTs}) nor was closed: ${err.message}; ` +
        `it got ${got.length} readings, the last at ts ${got.at(-1)?.ts ?? 'none'} (${(got.at(-1)?.ts ?? t0) - t0} after the first), ` +
        `dropped messages ${JSON.stringify(slow.received.filter((m) => m.type === 'dropped'))}`,
    );
  });
  if (end.closed !== null) {
    assert.is(end.closed, 1013, 'closed with 1013 "try again later"');
    return;
  }
  const dropped = slow.received.filter((m) => m.type === 'dropped');
  assert.ok(dropped.length > 0, `a dropped message (got ${readingsOf(slow).length} of ${total} readings)`);
  for (const d of dropped) assert.ok(Number.isInteger(d.count) && (d.count as number) > 0, `count: ${JSON.stringify(d)}`);
  // What came plus what was dropped is everything; each dropped marker stands for the gap it is in.
  const messages = slow.received.filter((m) => m.type === 'reading' || m.type === 'dropped');
  let expectedTs = t0;
  for (const m of messages) {
    if (m.type === 'dropped') expectedTs += m.count as number;
    else {
      assert.is(m.ts, expectedTs, 'readings in order, and gaps only where a dropped marker says');
      expectedTs++;
    }
  }
  assert.is(expectedTs, t0 + total);
});

// ---------------------------------------------------------------- bad subscribes

test('a bad subscribe gets an error message, and a good one afterwards works', async () => {
  // §2 Live stream: the client sends {type:subscribe, filters..., replay:N}; anything else is an error
  const c = await stream();
  const bad: (object | string)[] = [
    'not json',
    { type: 'unsubscribe' },
    { sensor: 'st-bad' },
    { type: 'subscribe', sensor: 'bad/id' },
    { type: 'subscribe', room: 'a room' },
    { type: 'subscribe', metric: 'Temp' },
    { type: 'subscribe', replay: -1 },
    { type: 'subscribe', replay: 'x' },
    { type: 'subscribe', replay: 1.5 },
    { type: 'subscribe', sensor: 7 },
  ];
  for (const m of bad) {
    c.send(m);
    const reply = await c.next((x) => x.type === 'error' || x.type === 'subscribed');
    assert.is(reply.type, 'error', `reply to ${JSON.stringify(m)}: ${JSON.stringify(reply)}`);
  }
  const s = await sensor('st-after-bad', 'st-after-bad-room');
  assert.equal(await c.subscribe({ sensor: 'st-after-bad', replay: 0 }), { replayed: 0 });
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1 });
  assert.is((await c.readings(1))[0]?.sensor, 'st-after-bad');
});

test.run();
