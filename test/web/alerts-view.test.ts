// docs/DASHBOARD.md "Alerts": the Alerts view in real Chromium lists what fires now and the
// recent events, and follows a new event without a reload (it asks again when the live stream
// brings readings).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asUser } from '../support/access-setup.ts';
import { launchBrowser } from '../support/browser.ts';
import { startHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { openPage } from './dashboard-fixture.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('the Alerts view shows a firing alert, then its clearing as it happens, without a reload', async () => {
  const b = await launchBrowser('alerts view browser test');
  if (!b) return;
  perTest.add('browser', () => b.close());
  const h = await startHub();
  const put = await asUser(h.httpPort).put('/api/v1/alerts/rules/hot', { rule: 'temperature > 30 clear < 29', room: 'server-room' });
  assert.is(put.status, 201, put.text);
  const s = await connect(h.tcpPort);
  await s.hello('rack1', 'server-room');
  const ts = Date.now();
  await s.send({ type: 'reading', metric: 'temperature', value: 31.5, ts, seq: 1 });
  await s.ackCovering(1);

  const p = await openPage(b.browser, h.httpPort);
  await p.goto('/');
  await p.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  await p.page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
  const firing = p.page.getByRole('table', { name: 'Firing now' });
  await firing.getByRole('row').filter({ hasText: 'rack1' }).waitFor();
  assert.match(
    (await firing.getByRole('row').nth(1).innerText()).replace(/\s+/g, ' '),
    /hot rack1 server-room temperature 31\.5 temperature > 30 clear < 29/,
  );

  await s.send({ type: 'reading', metric: 'temperature', value: 28, ts: ts + 1, seq: 2 });
  await s.ackCovering(2);
  const events = p.page.getByRole('table', { name: 'Alert events' });
  await events.getByRole('row').filter({ hasText: 'cleared' }).waitFor();
  await p.page.getByText('Nothing fires in your rooms.').waitFor();
  const rows = (await events.getByRole('row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  assert.match(rows[1]!, /hot cleared rack1 server-room temperature 28/, 'newest first');
  assert.match(rows[2]!, /hot firing rack1 server-room temperature 31\.5/);
  assert.is(p.page.url(), `${p.base}/alerts`, 'the view has its own path');
  assert.equal(p.errors, [], 'no console errors');
});

test.run();
