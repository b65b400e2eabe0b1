// docs/DASHBOARD.md "Charts" and docs/API.md "GET /api/v1/stream": the page subscribes with
// `"batch": true`, so a burst of readings reaches it as a few `readings` messages, not one
// message each (a browser pays per message), and every one of them still reaches the page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser } from '../support/browser.ts';
import { startHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { chartsDrawn, openPage, UI_TIMEOUT_MS } from './dashboard-fixture.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const BURST = 600; // three batches of 200 (a line holds at most 64 KiB)

interface Frame {
  type?: string;
  readings?: unknown[];
  batch?: unknown;
}

test('a room view asks for batches: a burst of 600 readings arrives whole, in a few readings messages', async () => {
  const b = await launchBrowser('live batches browser test');
  if (!b) return;
  perTest.add('browser', () => b.close());
  const h = await startHub();
  const s = await connect(h.tcpPort);
  await s.hello('burst-1', 'lab');
  const t0 = Date.now() - 120_000;
  await s.send({ type: 'reading', metric: 'level', value: 1, ts: t0, seq: 1 });
  await s.ackCovering(1);

  const p = await openPage(b.browser, h.httpPort);
  await p.goto('/room/lab?range=15m');
  await chartsDrawn(p.page);
  const parsed = () => p.frames.map((f) => JSON.parse(f) as Frame);
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!parsed().some((f) => f.type === 'subscribed')) {
    if (Date.now() > deadline) throw new Error(`no subscribed frame: ${p.frames.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const subscribes = parsed().filter((f) => f.type === 'subscribe');
  assert.ok(subscribes.length > 0 && subscribes.every((f) => f.batch === true), JSON.stringify(subscribes));

  for (let k = 0; k < 3; k++) {
    const readings = Array.from({ length: BURST / 3 }, (_, i) => ({ metric: 'level', value: i, ts: t0 + 1 + k * (BURST / 3) + i }));
    await s.send({ type: 'batch', seq: 2 + k, readings });
  }
  await s.ackCovering(4);
  const got = () => parsed().reduce((n, f) => n + (f.type === 'readings' ? (f.readings?.length ?? 0) : f.type === 'reading' ? 1 : 0), 0);
  while (got() < BURST) {
    if (Date.now() > deadline + UI_TIMEOUT_MS) throw new Error(`${got()} of ${BURST} readings reached the page`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const messages = parsed().filter((f) => f.type === 'readings' || f.type === 'reading');
  assert.is(got(), BURST, 'every reading, once');
  assert.ok(
    messages.every((f) => f.type === 'readings'),
    'no reading came alone',
  );
  assert.ok(messages.length <= 30, `${BURST} readings in ${messages.length} messages`);
  assert.equal(p.errors, [], 'no console errors');
});

test.run();
