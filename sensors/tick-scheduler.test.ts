// One timer for the whole fleet: ticks on absolute due times, no drift, no catch-up bursts.
// On a fake clock (test/support/fake-clock.ts): time moves only when the test says, so lateness
// is exact and nothing waits for real time; the last test proves the real clock is wired.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../test/support/fake-clock.ts';
import { TickScheduler } from './tick-scheduler.ts';

const schedulers: TickScheduler[] = [];
test.after.each(() => {
  for (const s of schedulers.splice(0)) s.stop();
});

function scheduler(clock?: FakeClock): TickScheduler {
  const s = new TickScheduler(clock ? { clock } : {});
  schedulers.push(s);
  return s;
}

test('ticks come due at first + k * interval: lateness of one tick does not shift the next', () => {
  const clock = new FakeClock(1_000);
  const s = scheduler(clock);
  const dues: number[] = [];
  const ran: number[] = [];
  s.add(15, 5, (dueMs) => {
    dues.push(dueMs);
    ran.push(clock.now());
    // Each tick takes 4 ms; an interval timer would drift by that much each time.
    clock.spend(4);
  });
  clock.advance(110);
  assert.equal(dues, [1005, 1020, 1035, 1050, 1065, 1080, 1095, 1110]);
  assert.equal(ran, dues, 'each tick ran at its due time, not 4 ms later per tick before it');
});

test('a process that falls behind runs the late tick once, then skips the missed slots instead of firing them in a burst', () => {
  const clock = new FakeClock();
  const s = scheduler(clock);
  const dues: number[] = [];
  s.add(10, 0, (dueMs) => {
    dues.push(dueMs);
    if (dues.length === 1) clock.spend(60); // blocked through the slots at 10..60
  });
  clock.advance(80);
  // 10 was due during the block: it runs once, late (at 60); 20..60 are skipped; 70 and 80 are on time.
  assert.equal(dues, [0, 10, 70, 80]);
});

test('ticks due at the same moment run in the order they were added, and a cancelled one never runs again', () => {
  const clock = new FakeClock();
  const s = scheduler(clock);
  const order: string[] = [];
  const a = s.add(20, 0, () => order.push('a'));
  s.add(20, 0, () => order.push('b'));
  s.add(20, 0, () => {
    order.push('c');
    a.cancel();
  });
  clock.advance(20);
  assert.equal(order, ['a', 'b', 'c', 'b', 'c']);
  assert.is(s.size, 2);
});

test('a tick added due sooner than the armed timer moves the timer earlier, and there is still only one', () => {
  const clock = new FakeClock();
  const s = scheduler(clock);
  const ran: [string, number][] = [];
  s.add(1_000, 500, () => ran.push(['slow', clock.now()]));
  s.add(1_000, 100, () => ran.push(['soon', clock.now()]));
  assert.is(clock.pendingTimers, 1);
  clock.advance(600);
  assert.equal(ran, [
    ['soon', 100],
    ['slow', 500],
  ]);
  assert.is(clock.pendingTimers, 1);
});

test('10,000 periodic ticks share one timer, and all of them run', () => {
  const clock = new FakeClock();
  const s = scheduler(clock);
  const count = 10_000;
  const ticks = new Uint8Array(count);
  for (let i = 0; i < count; i++) s.add(100, (i * 7919) % 100, () => void ticks[i]!++);
  assert.is(clock.pendingTimers, 1);
  clock.advance(199);
  assert.is(clock.pendingTimers, 1);
  // Every entry is due at d and d + 100 for its d in 0..99; a tick within 1 ms of its due time may run with the one before it.
  const ranTwice = ticks.filter((n) => n >= 2).length;
  assert.is(ranTwice, count, `${count - ranTwice} entries ran less than twice`);
  s.stop();
  assert.is(s.size, 0);
  assert.is(clock.pendingTimers, 0);
});

test('cancelling the last tick clears the timer, and stop() drops every tick and the timer', () => {
  const clock = new FakeClock();
  const s = scheduler(clock);
  const handles = [s.add(1000, 1000, () => {}), s.add(1000, 500, () => {})];
  assert.is(clock.pendingTimers, 1);
  for (const h of handles) h.cancel();
  assert.is(clock.pendingTimers, 0);
  handles[0]!.cancel();
  assert.is(s.size, 0, 'a second cancel changes nothing');
  let ran = 0;
  s.add(10, 0, () => ran++);
  s.add(10, 5, () => ran++);
  s.stop();
  assert.is(clock.pendingTimers, 0);
  clock.advance(100);
  assert.is(ran, 0);
});

test('an interval of 0 or less is refused at once', () => {
  const s = scheduler(new FakeClock());
  for (const intervalMs of [0, -5, NaN]) assert.throws(() => s.add(intervalMs, 0, () => {}), /intervalMs must be above 0/);
});

test('on the process clock a tick runs, and cancelling it leaves no timer to keep the process alive', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const s = scheduler();
  let handle: { cancel(): void } | undefined;
  const dueMs = await new Promise<number>((resolve) => {
    handle = s.add(60_000, 0, resolve);
    assert.is(timers() - before, 1);
  });
  assert.ok(dueMs <= performance.now(), 'due on the monotonic clock');
  handle!.cancel();
  assert.is(timers() - before, 0);
});

test.run();
