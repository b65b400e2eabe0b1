import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SENSOR_ID_PATTERN, METRIC_PATTERN } from '../../protocol/names.ts';
import { toMetric, toSensorId } from './mqtt-names.ts';

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

test.run();
