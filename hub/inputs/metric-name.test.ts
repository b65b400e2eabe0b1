// Names from InfluxDB and Prometheus made into metric names by the inputs' one rule (docs/INTEGRATIONS.md "Names").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METRIC_PATTERN } from '../../protocol/names.ts';
import { metricName } from './metric-name.ts';

test('valid names stay; others follow the one rule of every input; long ones keep a hash of the whole', () => {
  const cases: [string, string][] = [
    ['node_cpu_seconds_total', 'node_cpu_seconds_total'],
    ['sensor.living_room', 'sensor_living_room'],
    ['Disk.IO', 'disk_io'],
    ['CPU-Load', 'cpu_load'],
    ['DewPoint', 'dew_point'],
    ['°C', 'c'],
    ['2xx', 'm_2xx'],
    ['constructor', 'constructor'],
    ['__proto__', 'proto'],
  ];
  for (const [raw, want] of cases) {
    assert.is(metricName(raw), want, raw);
    assert.ok(METRIC_PATTERN.test(want), want);
  }
  const long = metricName(`node_${'x'.repeat(80)}`);
  assert.ok(METRIC_PATTERN.test(long) && long.length === 64, long);
  assert.is.not(long, metricName(`node_${'x'.repeat(81)}`), 'two long names that start alike stay apart');
  assert.is(metricName('°'), '°', 'nothing valid: left as it is, and refused later by the contract');
});

test.run();
