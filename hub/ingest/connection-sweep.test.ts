// The sensor server's sweep keeps time for every connection (no timer per connection): the hello
// deadline and the idle limit are never cut short, and only a quiet connection is closed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../../test/support/hub-process.ts';
import { connect } from '../../test/support/tcp-sensor.ts';
import { perTest } from '../../test/support/teardown.ts';
import { sweepPeriodMs } from './tcp-server.ts';

test.after.each(() => perTest.run());

test('a quiet connection is closed once idleTimeoutMs has passed, not before, while a talking one stays', async () => {
  const idleTimeoutMs = 1_500;
  const { tcpPort } = await startHub({ idleTimeoutMs });
  // Half a sweep after the hub started, so a sweep that cut the limit short by a period would show.
  await new Promise((r) => setTimeout(r, sweepPeriodMs({ helloTimeoutMs: 10_000, idleTimeoutMs }) / 2));
  const quiet = await connect(tcpPort);
  const talking = await connect(tcpPort);
  await talking.hello('sweep-talking');
  await quiet.hello('sweep-quiet');
  const lastLine = Date.now(); // its hello arrived before the welcome did: quiet since at least now
  const closedAt = quiet.closed(15_000).then(() => Date.now());
  // The talking one sends a line every quarter of the limit until the quiet one is gone.
  let open = true;
  void closedAt.then(() => (open = false));
  while (open) {
    await talking.sync();
    await new Promise((r) => setTimeout(r, idleTimeoutMs / 4));
  }
  const idleFor = (await closedAt) - lastLine;
  assert.ok(idleFor >= idleTimeoutMs - 5, `closed after ${idleFor} ms of quiet, the limit is ${idleTimeoutMs} ms`);
  assert.not.ok(talking.isClosed, 'a connection that sends lines is not idle');
});

test('a connection without hello gets its 401 once helloTimeoutMs has passed, not before', async () => {
  const helloTimeoutMs = 1_000;
  const { tcpPort } = await startHub({ helloTimeoutMs });
  await new Promise((r) => setTimeout(r, sweepPeriodMs({ helloTimeoutMs, idleTimeoutMs: 120_000 }) / 2));
  const s = await connect(tcpPort);
  const opened = Date.now(); // connected: the hub's count starts about now (its accept may lag a little)
  await s.send({ type: 'ping', id: 'still-no-hello' }); // a line, but not a hello: the deadline stands
  const err = await s.next({ type: 'error' }, 10_000);
  const waited = Date.now() - opened;
  assert.is(err.code, 401);
  assert.ok(waited >= helloTimeoutMs - 5, `401 after ${waited} ms, the deadline is ${helloTimeoutMs} ms`);
  await s.closed();
});

test('the sweep runs at a quarter of the shorter limit, at most once a second', () => {
  assert.is(sweepPeriodMs({ helloTimeoutMs: 10_000, idleTimeoutMs: 120_000 }), 1_000);
  assert.is(sweepPeriodMs({ helloTimeoutMs: 10_000, idleTimeoutMs: 500 }), 125);
  assert.is(sweepPeriodMs({ helloTimeoutMs: 1, idleTimeoutMs: 1 }), 10);
});

test.run();
