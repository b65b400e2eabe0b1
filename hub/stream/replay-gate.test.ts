import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplayGate } from './replay-gate.ts';

/** Whether `p` has settled by the time queued microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

test('no more than the limit read at once; the next in line starts when one is released', async () => {
  const gate = new ReplayGate(2);
  const [a, b, c, d] = [gate.turn(), gate.turn(), gate.turn(), gate.turn()];
  assert.ok(await settled(a.ready));
  assert.ok(await settled(b.ready));
  assert.not.ok(await settled(c.ready), 'the third waits');
  assert.equal([gate.active, gate.queued], [2, 2]);
  a.release();
  assert.ok(await settled(c.ready), 'first come, first served');
  assert.not.ok(await settled(d.ready));
  a.release(); // twice is once
  assert.equal([gate.active, gate.queued], [2, 1]);
});

test('a waiting turn that leaves the line never starts and takes no place; a running one that leaves keeps its place until released', async () => {
  const gate = new ReplayGate(1);
  const running = gate.turn();
  const gone = gate.turn();
  const next = gate.turn();
  gone.leave();
  assert.is(gate.queued, 1);
  running.leave();
  assert.is(gate.active, 1, 'leave does not end a replay being read');
  running.release();
  assert.ok(await settled(next.ready));
  assert.not.ok(await settled(gone.ready));
  assert.equal([gate.active, gate.queued], [1, 0]);
});

test.run();
