// Names from other systems made into metric names by one documented rule (docs/INTEGRATIONS.md "Names").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METRIC_PATTERN } from '../../protocol/names.ts';
import { metricName } from './metric-name.ts';

test('valid names stay; others are lower-cased, other characters become _, a non-letter start gets m_, cut to 64', () => {
  const cases: [string, string][] = [
    ['node_cpu_seconds_total', 'node_cpu_seconds_total'],
    ['sensor.living_room', 'sensor_living_room'],
    ['CPU-Load', 'cpu_load'],
    ['°C', 'm__c'],
    ['2xx', 'm_2xx'],
    ['_private', 'm__private'],
    ['a'.repeat(80), 'a'.repeat(64)],
    ['constructor', 'constructor'],
    ['__proto__', 'm___proto__'],
  ];
  for (const [raw, want] of cases) {
    assert.is(metricName(raw), want, raw);
    assert.ok(METRIC_PATTERN.test(want), want);
  }
  assert.is(metricName(''), '', 'empty stays empty, and is refused by the contract later');
});

test.run();
