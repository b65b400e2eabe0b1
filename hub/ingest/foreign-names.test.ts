// Names from other systems (MQTT, InfluxDB, Prometheus) made into sensor ids and metric names by
// every input's one rule (docs/INTEGRATIONS.md "Names").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SENSOR_ID_PATTERN, METRIC_PATTERN } from '../../protocol/names.ts';
import { metricName, toMetric, toSensorId } from './foreign-names.ts';

test('a valid sensor id and metric are kept as they are', () => {
  assert.is(toSensorId('0x00158d00036c1821'), '0x00158d00036c1821');
  assert.is(toSensorId('shellyplusht-08b61fd9aef4'), 'shellyplusht-08b61fd9aef4');
  assert.is(toMetric('temperature'), 'temperature');
});

test('sensor ids: spaces, slashes and other characters become _, leading punctuation goes', () => {
  assert.is(toSensorId('Living Room/TH sensor'), 'Living_Room_TH_sensor');
  assert.is(toSensorId('Küche'), 'K_che');
  assert.is(toSensorId('_hidden'), 'hidden');
  assert.is(toSensorId('  '), null, 'nothing valid left');
  assert.is(toSensorId(''), null);
});

test('metrics: CamelCase gets _, everything is lowercase, other characters become one _', () => {
  assert.is(toMetric('Temperature'), 'temperature');
  assert.is(toMetric('DewPoint'), 'dew_point');
  assert.is(toMetric('DS18B20-1_Temperature'), 'ds18b20_1_temperature');
  assert.is(toMetric('PM2.5'), 'pm2_5');
  assert.is(toMetric('2nd probe'), 'm_2nd_probe', 'a metric must start with a letter');
  assert.is(toMetric('--'), null);
});

test('a name over 64 characters keeps its start and a hash of the whole, so two long names stay apart', () => {
  const a = toSensorId('x'.repeat(70) + 'a')!;
  const b = toSensorId('x'.repeat(70) + 'b')!;
  assert.is(a.length, 64);
  assert.ok(SENSOR_ID_PATTERN.test(a) && SENSOR_ID_PATTERN.test(b));
  assert.is.not(a, b);
  assert.is(toSensorId('x'.repeat(70) + 'a'), a, 'the same name gives the same id every time');
  const m = toMetric('Very Long Field '.repeat(6))!;
  assert.is(m.length, 64);
  assert.ok(METRIC_PATTERN.test(m));
});

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
