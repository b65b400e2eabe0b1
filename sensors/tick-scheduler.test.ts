// One timer for the whole fleet: ticks on absolute due times, no drift, no catch-up bursts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TickScheduler } from './tick-scheduler.ts';

const schedulers: TickScheduler[] = [];
test.after.each(() => {
  for (const s of schedulers.splice(0)) s.stop();
});

function scheduler(): TickScheduler {
  const s = new TickScheduler();
  schedulers.push(s);
  return s;
}

/** Resolves once `count()` reaches `n`, checking after every tick through `onTick`. */
function until(n: () => boolean, what: string, timeoutMs = 20_000): { onTick: () => void; done: Promise<void> } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  return {
    done: done.finally(() => clearTimeout(timer)),
    onTick: () => {
      if (n()) resolve();
    },
  };
}

test('ticks come due at first + k * interval: lateness of one tick does not shift the next', async () => {
  const s = scheduler();
  const dues: number[] = [];
  const fired: number[] = [];
  const wait = until(() => dues.length >= 8, '8 ticks');
  s.add(15, 5, (dueMs) => {
    dues.push(dueMs);
    fired.push(performance.now());
    // Make every tick late on purpose; an interval timer would drift by this much each time.
    const busyUntil = performance.now() + 4;
    while (performance.now() < busyUntil);
    wait.onTick();
  });
  await wait.done;
  for (let k = 1; k < dues.length; k++) {
    const steps = (dues[k]! - dues[0]!) / 15;
    assert.ok(Math.abs(steps - Math.round(steps)) < 1e-6, `due ${k} is a whole number of intervals after the first`);
    assert.ok(dues[k]! > dues[k - 1]!);
    // A due time already past when the previous tick ran would be a catch-up burst.
    assert.ok(dues[k]! > fired[k - 1]! - 1, `tick ${k} was due after the previous one ran`);
  }
});

test('a process that falls behind skips the missed ticks instead of firing them in a burst', async () => {
  const s = scheduler();
  const dues: number[] = [];
  const wait = until(() => dues.length >= 3, '3 ticks');
  s.add(10, 0, (dueMs) => {
    dues.push(dueMs);
    if (dues.length === 1) {
      const busyUntil = performance.now() + 60;
      while (performance.now() < busyUntil);
    }
    wait.onTick();
  });
  await wait.done;
  // The tick that was due during the block runs once, late; the slots after it are skipped.
  assert.ok(dues[2]! - dues[1]! >= 50, `one late tick, then the missed slots skipped (${dues[2]! - dues[1]!} ms)`);
});

test('ticks due at the same moment run in the order they were added, and a cancelled one never runs again', async () => {
  const s = scheduler();
  const order: string[] = [];
  const wait = until(() => order.filter((x) => x === 'c').length >= 2, 'c twice');
  const a = s.add(20, 0, () => order.push('a'));
  s.add(20, 0, () => order.push('b'));
  s.add(20, 0, () => {
    order.push('c');
    a.cancel();
    wait.onTick();
  });
  await wait.done;
  assert.equal(order, ['a', 'b', 'c', 'b', 'c']);
  assert.is(s.size, 2);
});

test('10,000 periodic ticks share one timer, and all of them run', async () => {
  const s = scheduler();
  const count = 10_000;
  const ticks = new Uint8Array(count);
  let twice = 0;
  const wait = until(() => twice === count, 'every entry to tick twice', 60_000);
  const before = timers();
  for (let i = 0; i < count; i++) {
    s.add(100, (i * 7919) % 100, () => {
      if (++ticks[i]! === 2) twice++;
      wait.onTick();
    });
  }
  assert.ok(timers() - before <= 1, `${timers() - before} timers for ${count} ticks`);
  await wait.done;
  assert.ok(timers() - before <= 1);
  s.stop();
  assert.is(s.size, 0);
});

test('cancelling the last tick clears the timer, so nothing keeps the process alive', () => {
  const before = timers();
  const s = scheduler();
  const handles = [s.add(1000, 1000, () => {}), s.add(1000, 500, () => {})];
  assert.is(timers() - before, 1);
  for (const h of handles) h.cancel();
  assert.is(timers() - before, 0);
});

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test.run();
