import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alertDutyHub } from './alert-duty.ts';

const sensors = Array.from({ length: 3_000 }, (_, i) => `sensor-${i}`);

test('every hub picks the same hub for a sensor, whatever order it lists the hubs in', () => {
  for (const s of sensors) assert.is(alertDutyHub(s, ['a', 'b', 'c']), alertDutyHub(s, ['c', 'a', 'b']));
});

test('the sensors are shared out among the hubs, none left without one', () => {
  const count = new Map<string, number>();
  for (const s of sensors) {
    const hub = alertDutyHub(s, ['a', 'b', 'c'])!;
    count.set(hub, (count.get(hub) ?? 0) + 1);
  }
  assert.equal([...count.keys()].sort(), ['a', 'b', 'c']);
  for (const n of count.values()) assert.ok(n > 600, `each hub has a fair share (${n} of 3,000)`);
});

test('a hub that leaves hands on only its own sensors', () => {
  for (const s of sensors) {
    const before = alertDutyHub(s, ['a', 'b', 'c']);
    const after = alertDutyHub(s, ['a', 'b']);
    if (before !== 'c') assert.is(after, before, s);
    else assert.ok(after === 'a' || after === 'b');
  }
});

test('no hub alive: no one', () => {
  assert.is(alertDutyHub('sensor-1', []), null);
});

test.run();
