// docs/ADMIN.md "When the store cannot write", on an injected full disk (the storeFaults flag file:
// every commit fails with ENOSPC while it exists; test/faults/full-disk.test.ts fills a real
// tmpfs where mounting is allowed). Sensors get 503 and nothing unstored is acked; reads keep
// working; health and /metrics say, in an operator's words, that the disk is full and what to do;
// once the flag goes the hub commits again by itself and the resent readings are stored once.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, history, request, waitFor } from '../support/api-client.ts';
import { getJson } from '../support/http.ts';
import { startHub, tempDataDir } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

interface Health {
  status: string;
  store_error?: string;
  store_problem?: { cause: string; problem: string; action: string; sensors: string; reads: string };
}

const batch = (seq: number, t0: number) => ({
  type: 'batch',
  seq,
  readings: Array.from({ length: 10 }, (_, i) => ({ metric: 'temperature', value: seq * 100 + i, ts: t0 + seq * 1000 + i })),
});

async function metric(port: number, line: string): Promise<number | null> {
  const text = (await request(port, '/metrics')).text;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? null : Number(found.slice(line.length + 1));
}

test('a full disk: sensors get 503 and no ack, reads work, health and /metrics say the disk is full and what to do; the hub recovers by itself', async () => {
  const flag = join((await tempDataDir()).path, 'disk-full');
  const hub = await startHub({
    storeFaults: { seed: 1, commitFailureRate: 0, commitDelayMs: 0, diskFullFlagFile: flag },
    storeUnavailableAfterMs: 1_000,
  });
  const t0 = Date.now() - 60_000;
  const s = await connect(hub.tcpPort);
  await s.hello('rack-1', 'lab');
  await s.send(batch(1, t0));
  await s.ackCovering(1);
  assert.is(await metric(hub.httpPort, 'roomwatch_store_failing{cause="disk_full"}'), 0);

  writeFileSync(flag, '');
  await s.send(batch(2, t0));
  const err = await s.next({ type: 'error', code: 503 }, 15_000);
  assert.match(String(err.message), /store is unavailable/);
  assert.not.ok(
    s.received.some((m) => m.type === 'ack' && Number(m.seq) >= 2),
    'batch 2 is not acked',
  );
  const h = await waitFor('health to say the store is unavailable', async () => {
    const r = await getJson<Health>(hub.httpPort, '/api/v1/health');
    return r.status === 503 && r.body.store_problem?.sensors.startsWith('turned away') && r.body;
  });
  assert.is(h.status, 'store_failing');
  assert.is(h.store_problem!.cause, 'disk_full');
  assert.match(h.store_problem!.problem, /disk holding the data folder is full/);
  assert.match(h.store_problem!.action, /free space/);
  assert.match(h.store_problem!.reads, /^working/);
  assert.match(h.store_error!, /No space left on device/);
  assert.is(await metric(hub.httpPort, 'roomwatch_store_failing{cause="disk_full"}'), 1);
  assert.is(await metric(hub.httpPort, 'roomwatch_store_unavailable'), 1);
  assert.ok((await metric(hub.httpPort, 'roomwatch_store_failing_seconds'))! > 0);
  // Reads keep working: what was stored is there.
  assert.is(csvRecords(await history(hub.httpPort, { time: 'ms' })).length, 10);

  rmSync(flag);
  await waitFor('health to say ok again', async () => (await getJson<Health>(hub.httpPort, '/api/v1/health')).status === 200);
  assert.is(await metric(hub.httpPort, 'roomwatch_store_failing{cause="disk_full"}'), 0);
  assert.is(await metric(hub.httpPort, 'roomwatch_store_unavailable'), 0);
  // The sensor resends what was not acked; it is stored once.
  const again = await connect(hub.tcpPort);
  await again.hello('rack-1', 'lab');
  await again.send(batch(2, t0));
  await again.ackCovering(2);
  await again.close();
  assert.is(csvRecords(await history(hub.httpPort, { time: 'ms' })).length, 20);
});

test.run();
