// docs/ALERTS.md "Webhooks": a real receiver on 127.0.0.1 that is down, then slow, then back
// gets every event once and in order; sending never waits for it; a full queue drops its
// oldest and counts them; an answer slower than the timeout is sent again with the same id.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, waitFor } from '../support/api-client.ts';
import { asUser } from '../support/access-setup.ts';
import { startHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { WebhookSender } from '../../hub/alerts/webhook-sender.ts';
import { processClock } from '../../sensors/tick-scheduler.ts';
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

function event(id: number): AlertEvent {
  return {
    id,
    ts: 1_700_000_000_000 + id,
    rule: 'hot',
    state: id % 2 ? 'firing' : 'cleared',
    sensor: 's1',
    room: 'lab',
    metric: 'temperature',
    value: 30 + id,
    condition: 'temperature > 30',
  };
}

interface Receiver {
  port: number;
  /** bodies received, in arrival order */
  got: AlertEvent[];
  delayMs: number;
  close(): Promise<void>;
}

async function receiver(port = 0, delayMs = 0): Promise<Receiver> {
  const r: Receiver = { port: 0, got: [], delayMs, close: async () => {} };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const answer = () => {
        r.got.push(JSON.parse(body) as AlertEvent);
        assert.is(req.headers['content-type'], 'application/json');
        assert.is(req.headers['idempotency-key'], String(r.got.at(-1)!.id));
        res.writeHead(204).end();
      };
      if (r.delayMs > 0) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  r.port = (server.address() as AddressInfo).port;
  r.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  perTest.add('webhook receiver', () => r.close());
  return r;
}

test('a receiver that is down, then slow, then back gets every event once, in order', async () => {
  const probe = await receiver();
  const port = probe.port;
  await probe.close(); // down: the port refuses connections
  const failures: string[] = [];
  const sender = new WebhookSender(
    `http://127.0.0.1:${port}/hook`,
    processClock,
    { timeoutMs: 5_000, minBackoffMs: 20, maxBackoffMs: 200, maxQueued: 100 },
    (_, m) => failures.push(m),
  );
  perTest.add('webhook sender', () => sender.stop());
  for (let id = 1; id <= 3; id++) sender.send(event(id));
  await waitFor('three failed attempts while the receiver is down', () => sender.stats.failedAttempts >= 3);
  assert.is(sender.queued, 3, 'nothing lost while down');
  assert.match(failures[0]!, /ECONNREFUSED/);
  const slow = await receiver(port, 300); // back, but slow
  for (let id = 4; id <= 6; id++) sender.send(event(id)); // queues at once, whatever the receiver does
  await waitFor('the first 4 delivered by the slow receiver', () => slow.got.length >= 4, 20_000);
  slow.delayMs = 0; // and back to normal
  for (let id = 7; id <= 10; id++) sender.send(event(id));
  await waitFor('all 10 delivered', () => slow.got.length >= 10, 20_000);
  assert.equal(
    slow.got.map((e) => e.id),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.equal(slow.got[0], event(1), 'the body is the event as the API gives it');
  assert.is(sender.stats.delivered, 10);
  assert.is(sender.queued, 0);
});

test('an answer slower than the timeout is retried: the same event again, with the same id', async () => {
  const r = await receiver(0, 400);
  const sender = new WebhookSender(`http://127.0.0.1:${r.port}/`, processClock, {
    timeoutMs: 100,
    minBackoffMs: 20,
    maxBackoffMs: 50,
    maxQueued: 10,
  });
  perTest.add('webhook sender', () => sender.stop());
  sender.send(event(1));
  await waitFor('a timed-out attempt', () => sender.stats.failedAttempts >= 1);
  assert.match(sender.lastError ?? '', /no answer within 100 ms/);
  r.delayMs = 0;
  sender.send(event(2));
  await waitFor('event 2 delivered', () => sender.stats.delivered === 2, 20_000);
  const ids = r.got.map((e) => e.id);
  assert.ok(ids.filter((id) => id === 1).length >= 1 && ids.at(-1) === 2, `ids ${ids.join(',')}`);
  assert.ok(ids.indexOf(2) > ids.lastIndexOf(1), 'in order');
});

test('a full queue drops its oldest events and counts them; send never waits', async () => {
  const probe = await receiver();
  await probe.close();
  const sender = new WebhookSender(`http://127.0.0.1:${probe.port}/`, processClock, {
    timeoutMs: 1_000,
    minBackoffMs: 60_000,
    maxBackoffMs: 60_000,
    maxQueued: 5,
  });
  perTest.add('webhook sender', () => sender.stop());
  for (let id = 1; id <= 12; id++) sender.send(event(id));
  assert.is(sender.queued, 5);
  assert.is(sender.stats.dropped, 7);
});

test('in a hub: a rule with a webhook POSTs its firing and clearing, as GET /api/v1/alerts lists them', async () => {
  const r = await receiver();
  const h = await startHub();
  const put = await asUser(h.httpPort).put('/api/v1/alerts/rules/hot', {
    rule: 'temperature > 30',
    webhooks: [`http://127.0.0.1:${r.port}/hook`],
  });
  assert.is(put.status, 201, put.text);
  const s = await connect(h.tcpPort);
  await s.hello('rack1', 'lab');
  const ts = Date.now();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 31, ts },
      { metric: 'temperature', value: 20, ts: ts + 1 },
    ],
  });
  await s.ackCovering(1);
  await waitFor('both events at the receiver', () => r.got.length >= 2);
  const listed = json<{ events: AlertEvent[] }>(await asUser(h.httpPort).get('/api/v1/alerts'));
  assert.equal(r.got, listed.events);
  assert.equal(
    r.got.map((e) => [e.state, e.value]),
    [
      ['firing', 31],
      ['cleared', 20],
    ],
  );
});

test.run();
