// Contract §1 "Framing": lines, limits, bad lines, too many errors, backpressure. Black box:
// a raw TCP client against a hub started in this process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { latest } from '../support/http.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect, type HubReply } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, paddedLine, tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const errors = (received: readonly HubReply[]): HubReply[] => received.filter((m) => m.type === 'error');

test('a message written one byte at a time, split inside a UTF-8 character, is read as one message', async () => {
  // §1 Framing: one JSON object per line, UTF-8 — however TCP happens to cut it
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-bytes');
  const ts = nextTs();
  await s.sendByteByByte(line({ type: 'reading', metric: 'temperature', value: 21.5, unit: '°C', ts, seq: 1 }));
  await s.ackCovering(1);
  const rows = await latest(httpPort, { sensor: 'frame-bytes' });
  assert.equal(
    rows.map((r) => [r.metric, r.value, r.unit, r.ts]),
    [['temperature', 21.5, '°C', ts]],
  );
  assert.equal(errors(s.received), []);
});

test('two messages in one chunk are both handled', async () => {
  // §1 Framing: one JSON object per line
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-two');
  const ts = nextTs();
  await s.sendRaw(
    line({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 }) +
      line({ type: 'reading', metric: 'humidity', value: 40, ts, seq: 2 }),
  );
  await s.ackCovering(2);
  const rows = await latest(httpPort, { sensor: 'frame-two' });
  assert.equal(
    rows.map((r) => [r.metric, r.value]),
    [
      ['humidity', 40],
      ['temperature', 20],
    ],
  );
});

test('hello, reading and ping in one chunk are answered in order', async () => {
  // §1 Framing + Session rules: lines are handled in the order they were sent
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.sendRaw(
    line({ type: 'hello', v: 1, sensor: 'frame-burst' }) +
      line({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1 }) +
      line({ type: 'ping', id: 'after' }),
  );
  await s.next({ type: 'pong', id: 'after' });
  await s.ackCovering(1);
  assert.is(s.received[0]?.type, 'welcome', 'the welcome comes first');
  assert.equal(errors(s.received), []);
});

test('a line ended by \\r\\n is accepted like one ended by \\n', async () => {
  // §1 Framing: a \r before the \n is ignored
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.sendRaw(JSON.stringify({ type: 'hello', v: 1, sensor: 'frame-crlf' }) + '\r\n');
  await s.next({ type: 'welcome' });
  const ts = nextTs();
  await s.sendRaw(JSON.stringify({ type: 'reading', metric: 'humidity', value: 55, ts, seq: 1 }) + '\r\n');
  await s.ackCovering(1);
  assert.equal(
    (await latest(httpPort, { sensor: 'frame-crlf' })).map((r) => r.ts),
    [ts],
  );
  assert.equal(errors(s.received), []);
});

test('empty lines are ignored, before and after hello', async () => {
  // §1 Framing: empty lines are ignored (no 400, no 401)
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.sendRaw('\n\n\r\n\n');
  await s.hello('frame-empty');
  await s.sendRaw('\n\r\n\n\n');
  await s.sync();
  assert.equal(errors(s.received), []);
});

test('a line that is not JSON gets error 400 and the connection stays open', async () => {
  // §1 Framing: not JSON -> 400; the connection stays open
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-notjson');
  for (const bad of ['hello world', '{"type":"ping"', "{type:'ping'}", '{"type":"ping",}', '{"type":"ping"} trailing']) {
    await s.sendRaw(bad + '\n');
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 400, `for ${bad}`);
  }
  await s.sync();
  assert.not.ok(s.isClosed);
});

test('a JSON value that is not an object gets error 400 and the connection stays open', async () => {
  // §1 Framing: not an object -> 400
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-notobject');
  for (const bad of ['[{"type":"ping"}]', '42', '"ping"', 'null', 'true']) {
    await s.sendRaw(bad + '\n');
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 400, `for ${bad}`);
  }
  await s.sync();
});

test('an object without a string "type" gets error 400 and the connection stays open', async () => {
  // §1 Framing: every message is an object with a string field `type`
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-notype');
  for (const bad of [{}, { type: 7 }, { type: null }, { type: ['ping'] }, { metric: 'temperature', value: 1 }]) {
    await s.send(bad);
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 400, `for ${JSON.stringify(bad)}`);
  }
  await s.sync();
});

test('an unknown message type gets error 400 and the connection stays open', async () => {
  // §1 Framing: unknown `type` -> 400 (types are case-sensitive)
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-unknown');
  for (const type of ['readings', 'PING', 'Reading', 'welcome', 'ack', '']) {
    await s.send({ type });
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 400, `for type "${type}"`);
  }
  await s.sync();
});

test('a bad line followed by a good one gets one error 400 and the good reading is stored', async () => {
  // §1 Framing (statsd/aedes framing test): a bad line does not poison the next
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-badgood');
  const ts = nextTs();
  await s.sendRaw('this is not json\n' + line({ type: 'reading', metric: 'temperature', value: 19.5, ts, seq: 1 }));
  assert.is((await s.next({ type: 'error' })).code, 400);
  await s.ackCovering(1);
  assert.equal(
    (await latest(httpPort, { sensor: 'frame-badgood' })).map((r) => [r.value, r.ts]),
    [[19.5, ts]],
  );
  assert.is(errors(s.received).length, 1);
});

test('a line longer than maxLineBytes gets error 413 and the hub closes the connection', async () => {
  // §1 Framing: a longer line gets error 413 and the hub closes the connection
  const { tcpPort, httpPort } = await startHub({ maxLineBytes: 1024 });
  const s = await connect(tcpPort);
  await s.hello('frame-long');
  await s.sendRaw(paddedLine({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1 }, 2000));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
  assert.equal(await latest(httpPort, { sensor: 'frame-long' }), []);
});

test('with maxLineBytes 1024, a line of 1024 bytes including its \\n is accepted and one of 1025 gets 413', async () => {
  // §1 Framing: at most maxLineBytes bytes including the line's end; the hub may be configured
  const { tcpPort } = await startHub({ maxLineBytes: 1024 });
  const s = await connect(tcpPort);
  await s.hello('frame-small-limit');
  await s.sendRaw(paddedLine({ type: 'ping', id: 'fits' }, 1024));
  await s.next({ type: 'pong', id: 'fits' });
  await s.sendRaw(paddedLine({ type: 'ping', id: 'too-long' }, 1025));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
  assert.not.ok(s.received.some((m) => m.type === 'pong' && m.id === 'too-long'));
});

test('at the default limit a line of 65,536 bytes including its \\n is accepted and one of 65,537 gets 413 and the close', async () => {
  // §1 Framing: a line is at most 65,536 bytes including its end by default
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-default-limit');
  await s.sendRaw(paddedLine({ type: 'ping', id: 'exactly-65536' }, 65_536));
  await s.next({ type: 'pong', id: 'exactly-65536' });
  await s.sendRaw(paddedLine({ type: 'ping', id: 'one-more' }, 65_537));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
});

test('the line limit counts bytes, not characters', async () => {
  // §1 Framing: 65,536 *bytes* including the end; "é" is two bytes in UTF-8
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-limit-bytes');
  const id = 'é'.repeat(32_700);
  await s.sendRaw(paddedLine({ type: 'ping', id }, 65_536));
  assert.is((await s.next({ type: 'pong' })).id, id);
  await s.sendRaw(paddedLine({ type: 'ping', id }, 65_537));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
});

test('an unterminated line that passes the limit gets 413 and the close before any \\n arrives', async () => {
  // §1 Framing: 413 for a long line; the hub never buffers an unbounded amount for one connection
  const { tcpPort } = await startHub({ maxLineBytes: 1024 });
  const s = await connect(tcpPort);
  await s.hello('frame-unterminated');
  await s.sendRaw('{"type":"ping","id":"' + 'x'.repeat(4096));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
});

test('a line over the limit before hello also gets 413 and the close', async () => {
  // §1 Framing applies before the session starts
  const { tcpPort } = await startHub({ maxLineBytes: 1024 });
  const s = await connect(tcpPort);
  await s.sendRaw(paddedLine({ type: 'hello', v: 1, sensor: 'frame-long-hello' }, 1500));
  assert.is((await s.next({ type: 'error' })).code, 413);
  await s.closed();
});

test('a connection with exactly maxErrors bad lines gets that many 400s and stays open', async () => {
  // §1 Framing: the hub may close a connection that *keeps* sending bad lines — not one at the limit
  const { tcpPort } = await startHub({ maxErrors: 5, errorWindowMs: 60_000 });
  const s = await connect(tcpPort);
  await s.hello('frame-at-limit');
  await s.sendRaw('bad\n'.repeat(5));
  await s.sync();
  assert.equal(
    errors(s.received).map((e) => e.code),
    [400, 400, 400, 400, 400],
  );
  assert.not.ok(s.isClosed);
});

test('a connection that keeps sending bad lines gets error 429 and is closed', async () => {
  // §1 Framing: the hub may close a connection that keeps sending bad lines (error 429 first)
  const { tcpPort } = await startHub({ maxErrors: 5, errorWindowMs: 60_000 });
  const s = await connect(tcpPort);
  await s.hello('frame-too-many');
  await s.sendRaw('bad\n'.repeat(20));
  const e = await s.next({ type: 'error', code: 429 });
  await s.closed();
  const codes = errors(s.received).map((m) => m.code);
  assert.is(codes[codes.length - 1], 429, '429 is the last thing the sensor hears');
  const answered400 = codes.filter((c) => c === 400).length;
  assert.ok(answered400 >= 5 && answered400 <= 6, `the first maxErrors bad lines get 400 (got ${answered400})`);
  assert.ok(typeof e.message === 'string');
});

test('bad lines spread over more than errorWindowMs do not add up to 429', async () => {
  // Lead decision: 429 for more than maxErrors error replies *within errorWindowMs* (hub clock injected)
  let hubNow = Date.now();
  const { tcpPort } = await startHub({ maxErrors: 5, errorWindowMs: 10_000, now: () => hubNow });
  const s = await connect(tcpPort);
  await s.hello('frame-window');
  await s.sendRaw('bad\n'.repeat(5));
  await s.sync();
  hubNow += 10_001;
  await s.sendRaw('bad\n'.repeat(5));
  await s.sync();
  assert.not.ok(s.isClosed, 'ten errors, but never more than five within the window');
  assert.equal(
    errors(s.received).map((e) => e.code),
    Array(10).fill(400),
  );
  await s.sendRaw('bad\n');
  await s.next({ type: 'error', code: 429 });
  await s.closed();
});

test('errors other than 400 count toward the 429 limit too', async () => {
  // §1 Error codes 429 "too many errors": a stream of refused readings (422) is bad lines too
  const { tcpPort } = await startHub({ maxErrors: 5, errorWindowMs: 60_000 });
  const s = await connect(tcpPort);
  await s.hello('frame-too-many-422');
  await s.sendRaw(line({ type: 'reading', metric: 'Bad-Metric', value: 1 }).repeat(20));
  await s.next({ type: 'error', code: 429 });
  await s.closed();
  assert.ok(errors(s.received).some((m) => m.code === 422));
});

test('with the default limits, a flood of bad lines ends in 429 and the close', async () => {
  // §1 Framing: 429 after many bad lines (default maxErrors 100 in errorWindowMs 10 s)
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-flood');
  await s.sendRaw('{"type":"nonsense"}\n'.repeat(500));
  await s.next({ type: 'error', code: 429 }, 10_000);
  await s.closed();
  assert.ok(errors(s.received).filter((m) => m.code === 400).length >= 100);
});

test('a sensor that never reads its replies cannot make the hub buffer them without bound', async () => {
  // §1 Framing: backpressure — the hub reads no faster than it can answer and never buffers an
  // unbounded amount for one connection. We stop reading and flood pings: either our writes stall
  // (the hub stopped reading) or the hub closes us. If 64 MiB of pings go through, the hub read
  // them all and holds their pongs in memory.
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('frame-no-read');
  s.socket.pause();
  const chunk = Buffer.from(line({ type: 'ping', id: 'p' }).repeat(4096));
  const limitBytes = 64 * 1024 * 1024;
  const stallMs = 2_000;
  let written = 0;
  let outcome: 'stalled' | 'closed' | 'kept reading' = 'kept reading';
  while (written < limitBytes) {
    if (s.isClosed || s.socket.destroyed) {
      outcome = 'closed';
      break;
    }
    written += chunk.length;
    if (s.socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        s.socket.off('drain', onDrain);
        resolve(false);
      }, stallMs);
      const onDrain = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      s.socket.once('drain', onDrain);
    });
    if (!drained) {
      outcome = s.isClosed ? 'closed' : 'stalled';
      break;
    }
  }
  assert.ok(outcome !== 'kept reading', `the hub read ${written} bytes of pings whose pongs were never read`);
  s.socket.destroy();
});

test.run();
