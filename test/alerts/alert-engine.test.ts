// docs/ALERTS.md "Rules" and "When alerts fire": the engine on an injected clock. A `for`
// rule fires once its condition has held for the whole duration, not a tick before; the
// hysteresis keeps a value wobbling around the threshold from firing again; a silent sensor
// fires `no data`, and its next reading clears it; a restored alert does not fire again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertEngine, type AlertEventDraft } from '../../hub/alerts/alert-engine.ts';
import { compileRule } from '../../hub/alerts/alert-rule.ts';
import { parseAlertRule, formatAlertRule } from '../../protocol/alert-rules.ts';
import { FakeClock } from '../support/fake-clock.ts';

function engineWith(rules: { name: string; rule: string; room?: string; sensor?: string }[]) {
  const clock = new FakeClock(1_000_000);
  const events: AlertEventDraft[] = [];
  const engine = new AlertEngine({ now: clock.now, emit: (e) => events.push(e) });
  for (const r of rules)
    engine.setRule(compileRule({ name: r.name, rule: r.rule, room: r.room ?? null, sensor: r.sensor ?? null, webhooks: [], updatedAt: 0 }));
  // the service ticks every second; here the test does, as time passes
  const pass = (ms: number) => {
    for (let t = 0; t < ms; t += 1_000) {
      clock.advance(Math.min(1_000, ms - t));
      engine.tick();
    }
  };
  return { clock, events, engine, pass };
}

test('a rule with for 2m fires once the condition held 2 minutes, not a second before', () => {
  const { engine, events, pass } = engineWith([{ name: 'hot', rule: 'temperature > 30 for 2m' }]);
  engine.reading('s1', 'lab', 'temperature', 31);
  pass(119_000);
  engine.reading('s1', 'lab', 'temperature', 32);
  assert.equal(events, [], 'nothing before 2 minutes');
  pass(1_000);
  assert.is(events.length, 1);
  assert.equal(events[0], {
    ts: 1_000_000 + 120_000,
    rule: 'hot',
    state: 'firing',
    sensor: 's1',
    room: 'lab',
    metric: 'temperature',
    value: 32,
    condition: 'temperature > 30 for 2m',
  });
  engine.reading('s1', 'lab', 'temperature', 33);
  pass(300_000);
  assert.is(events.length, 1, 'fires once');
});

test('a reading that breaks the condition during its for time starts the wait again', () => {
  const { engine, events, pass } = engineWith([{ name: 'hot', rule: 'temperature > 30 for 2m' }]);
  engine.reading('s1', 'lab', 'temperature', 31);
  pass(100_000);
  engine.reading('s1', 'lab', 'temperature', 29);
  engine.reading('s1', 'lab', 'temperature', 31);
  pass(100_000);
  assert.equal(events, []);
  pass(20_000);
  assert.is(events.length, 1);
});

test('hysteresis: > 30 clear < 29 fires once for a value wobbling around 30, and clears below 29', () => {
  const { engine, events } = engineWith([{ name: 'hot', rule: 'temperature > 30 clear < 29' }]);
  for (const v of [31, 29.5, 30.5, 29.2, 31]) engine.reading('s1', 'lab', 'temperature', v);
  assert.equal(
    events.map((e) => [e.state, e.value]),
    [['firing', 31]],
  );
  engine.reading('s1', 'lab', 'temperature', 28.9);
  assert.equal(
    events.map((e) => [e.state, e.value]),
    [
      ['firing', 31],
      ['cleared', 28.9],
    ],
  );
});

test('without clear, an alert clears as soon as the condition stops holding', () => {
  const { engine, events } = engineWith([{ name: 'cold', rule: 'temperature < 5' }]);
  engine.reading('s1', 'lab', 'temperature', 4);
  engine.reading('s1', 'lab', 'temperature', 5);
  assert.equal(
    events.map((e) => e.state),
    ['firing', 'cleared'],
  );
});

test('no data for 5m fires for a silent sensor after 5 minutes, and its next reading clears it', () => {
  const { engine, events, pass } = engineWith([{ name: 'silent', rule: 'no data for 5m', room: 'lab' }]);
  engine.reading('s1', 'lab', 'temperature', 20);
  engine.reading('s2', 'office', 'temperature', 20); // not in the rule's room
  pass(299_000);
  assert.equal(events, []);
  pass(1_000);
  assert.equal(
    events.map((e) => [e.state, e.sensor, e.metric, e.value]),
    [['firing', 's1', null, null]],
  );
  pass(600_000);
  assert.is(events.length, 1, 'fires once');
  engine.reading('s1', 'lab', 'humidity', 40);
  assert.equal(
    events.map((e) => [e.state, e.value]),
    [
      ['firing', null],
      ['cleared', 40],
    ],
  );
});

test('scope: a rule on a room or a sensor pattern sees only those sensors', () => {
  const { engine, events } = engineWith([
    { name: 'lab', rule: 'temperature > 30', room: 'lab' },
    { name: 'racks', rule: 'temperature > 30', sensor: 'rack*' },
  ]);
  engine.reading('rack1', 'lab', 'temperature', 31);
  engine.reading('desk1', 'lab', 'temperature', 31);
  engine.reading('rack2', 'office', 'temperature', 31);
  engine.reading('rack3', 'office', 'humidity', 99);
  assert.equal(events.map((e) => `${e.rule}:${e.sensor}`).sort(), ['lab:desk1', 'lab:rack1', 'racks:rack1', 'racks:rack2']);
});

test('a rule named constructor is a rule like any other, beside a sensor and room named like Object methods', () => {
  const { engine, events } = engineWith([
    { name: 'constructor', rule: 'temperature > 30' },
    { name: '__proto__x', rule: 'temperature > 30' },
  ]);
  engine.reading('constructor', 'toString', 'temperature', 31);
  assert.equal(events.map((e) => e.rule).sort(), ['__proto__x', 'constructor']);
  assert.is(engine.firingCount('constructor'), 1);
  assert.is(engine.firingCount('hasOwnProperty'), 0);
});

test('restored firing: the next hot reading does not fire again; a newest value past the clear clears at start', () => {
  const { engine, events } = engineWith([{ name: 'hot', rule: 'temperature > 30 clear < 29' }]);
  engine.restoreFiring('hot', 's1', 'lab', 5, 35);
  engine.restoreFiring('hot', 's2', 'lab', 5, 28);
  assert.equal(
    events.map((e) => [e.state, e.sensor, e.value]),
    [['cleared', 's2', 28]],
  );
  engine.reading('s1', 'lab', 'temperature', 36);
  assert.is(events.length, 1, 'still firing, no second firing event');
  assert.is(engine.firingCount('hot'), 1);
});

test('replacing or deleting a rule clears its firing alerts', () => {
  const { engine, events } = engineWith([{ name: 'hot', rule: 'temperature > 30' }]);
  engine.reading('s1', 'lab', 'temperature', 31);
  engine.setRule(compileRule({ name: 'hot', rule: 'temperature > 40', room: null, sensor: null, webhooks: [], updatedAt: 1 }));
  engine.reading('s1', 'lab', 'temperature', 35);
  assert.equal(
    events.map((e) => [e.state, e.value, e.condition]),
    [
      ['firing', 31, 'temperature > 30'],
      ['cleared', null, 'temperature > 30'],
    ],
  );
  engine.reading('s1', 'lab', 'temperature', 41);
  assert.ok(engine.removeRule('hot'));
  assert.equal(
    events.slice(2).map((e) => e.state),
    ['firing', 'cleared'],
  );
});

test('the grammar: what it takes, how it writes it back, and what it refuses with a reason', () => {
  const ok = (text: string) => {
    const p = parseAlertRule(text);
    if (!p.ok) throw new Error(p.problem);
    return formatAlertRule(p.condition);
  };
  assert.is(ok('temperature > 30 for 2m clear < 29'), 'temperature > 30 for 2m clear < 29');
  assert.is(ok('  humidity   <=  -5.5  for 120s '), 'humidity <= -5.5 for 2m');
  assert.is(ok('no data for 5m'), 'no data for 5m');
  assert.is(ok('co2 >= 1000 clear < 1000'), 'co2 >= 1000');
  const bad: [string, RegExp][] = [
    ['temperature > 30 clear > 29', /other way/],
    ['temperature > 30 clear < 31', /overlaps/],
    ['Temperature > 30', /metric name/],
    ['temperature => 30', /operator|one of/],
    ['temperature > hot', /not a number/],
    ['temperature > 30 for 2', /unit/],
    ['temperature > 30 for 8d', /week/],
    ['temperature > 30 every 2m', /not expected/],
    ['no data', /no data for DURATION/],
    ['', /rule is text/],
  ];
  for (const [text, why] of bad) {
    const p = parseAlertRule(text);
    assert.ok(!p.ok, `refused: ${text}`);
    if (!p.ok) assert.match(p.problem, why, text);
  }
});

test.run();
