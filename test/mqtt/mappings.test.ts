/**
 * The built-in mappings against the payloads their projects document (documented-payloads.ts):
 * sensor, metric, value, unit and the device's own time, through the whole mapping step the
 * bridge runs (MessageMapper: mapping, valid names, the mapping file's rules).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MAP } from '../../hub/mqtt/map-file.ts';
import { MessageMapper } from '../../hub/mqtt/message-mapper.ts';
import { defaultUnit } from '../../protocol/names.ts';
import * as documented from './documented-payloads.ts';
import type { DocumentedPayload, ExpectedReading } from './documented-payloads.ts';

function readingsOf(mapper: MessageMapper, p: DocumentedPayload): ExpectedReading[] {
  const routed = mapper.route(p.topic, Buffer.from(p.payload));
  if (routed.kind === 'ignored') return [];
  if (routed.kind !== 'readings') throw new Error(`${p.what}: ${routed.kind} ${JSON.stringify(routed)}`);
  // The unit a reading without one is stored with: the hub's default for the metric.
  return routed.readings.map((r) => ({
    sensor: r.sensor,
    metric: r.metric,
    value: r.value,
    unit: r.unit ?? defaultUnit(r.metric),
    ...(r.ts !== undefined && { ts: r.ts }),
  }));
}

const cases: DocumentedPayload[] = [
  documented.zigbeeAqara,
  documented.zigbeeSwitchLastSeen,
  documented.zigbeePlug,
  documented.tasmotaAm2301,
  documented.tasmotaBme280,
  documented.tasmotaTwoDs18b20,
  documented.shellyTemperature,
  documented.shellyFullStatus,
  documented.shellySwitchToggled,
  documented.esphomeUndiscovered,
];

for (const p of cases) {
  test(`${p.what}: each value becomes its reading with its unit and the device's time`, () => {
    const mapper = new MessageMapper(DEFAULT_MAP);
    assert.equal(readingsOf(mapper, p), p.expected);
  });
}

/** The readings without their undefined fields (absent room, unit, ts), as they would be sent as JSON. */
function defined<T>(readings: T): T {
  return JSON.parse(JSON.stringify(readings)) as T;
}

test('an ESPHome state takes its unit from the discovery config published for its state topic (°C read as C)', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  assert.equal(readingsOf(mapper, documented.esphomeState)[0]!.unit, '', 'before the config: no unit for an unknown metric');
  assert.ok(mapper.discovery!.accept(documented.esphomeDiscovery.topic, Buffer.from(documented.esphomeDiscovery.payload)));
  assert.equal(readingsOf(mapper, documented.esphomeState), documented.esphomeState.expected);
  mapper.discovery!.accept(documented.esphomeDiscovery.topic, Buffer.alloc(0));
  assert.is(readingsOf(mapper, documented.esphomeState)[0]!.unit, '', 'an empty config removes it, as in Home Assistant');
});

test('a discovery config with value_template {{ value_json.X }} reads field X of a JSON state; `~` is the base topic', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const config = {
    '~': 'porch',
    name: 'Porch',
    stat_t: '~/sensor/air/state',
    unit_of_measurement: '°F',
    val_tpl: '{{ value_json.AM2301.Temperature }}',
  };
  assert.ok(mapper.discovery!.accept('homeassistant/sensor/porch/air/config', Buffer.from(JSON.stringify(config))));
  const routed = mapper.route('porch/sensor/air/state', Buffer.from('{"AM2301":{"Temperature":71.2}}'));
  assert.equal(routed.kind === 'readings' && defined(routed.readings), [{ sensor: 'porch', metric: 'air', value: 71.2, unit: 'F' }]);
});

test('a config with only a device_class gets that class’s usual unit', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  mapper.discovery!.accept('homeassistant/sensor/n1/p/config', Buffer.from('{"stat_t":"n1/sensor/p/state","device_class":"pressure"}'));
  const routed = mapper.route('n1/sensor/p/state', Buffer.from('1012.5'));
  assert.is(routed.kind === 'readings' && routed.readings[0]!.unit, 'hPa');
});

test('malformed payloads are refused with their reason; topics that carry no readings are ignored', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const kind = (topic: string, payload: string) => {
    const r = mapper.route(topic, Buffer.from(payload));
    return r.kind === 'refused' ? `refused:${r.reason}` : r.kind;
  };
  assert.is(kind('zigbee2mqtt/lamp', '{"temperature":'), 'refused:malformed');
  assert.is(kind('zigbee2mqtt/lamp', '[1,2]'), 'refused:malformed');
  assert.is(kind('zigbee2mqtt/lamp', '{"state":"ON","brightness_text":"x"}'), 'ignored', 'no numbers: nothing to store');
  assert.is(kind('zigbee2mqtt/bridge/state', 'online'), 'ignored');
  assert.is(kind('zigbee2mqtt/lamp/set', '{"state":"OFF"}'), 'ignored');
  assert.is(kind('zigbee2mqtt/lamp/availability', '{"state":"online"}'), 'ignored');
  assert.is(kind('tele/TH16/SENSOR', 'not json'), 'refused:malformed');
  assert.is(kind('shellyplus1-a1/events/rpc', '{"method":"NotifyEvent","params":{"ts":1,"events":[]}}'), 'ignored');
  assert.is(kind('shellyplus1-a1/events/rpc', '{"method":"NotifyStatus","params":7}'), 'refused:malformed');
  assert.is(kind('node1/sensor/temp/state', 'nan'), 'refused:not_numeric');
  assert.is(kind('some/other/topic', '1'), 'unmapped');
});

test('a Tasmota Time before 2000 is a clock not yet set: the hub stamps the reading instead', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const routed = mapper.route('tele/th/SENSOR', Buffer.from('{"Time":"1970-01-01T00:05:12","SI7021":{"Temperature":20.1}}'));
  assert.is(routed.kind === 'readings' && routed.readings[0]!.ts, undefined);
});

test('Tasmota energy readings keep Tasmota’s units, and an array gives one metric per channel', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const routed = mapper.route(
    'tele/pow/SENSOR',
    Buffer.from(
      '{"Time":"2019-12-24T11:34:19","ENERGY":{"TotalStartTime":"2019-12-24T10:00:00","Total":0.03,"Power":[11,0],"Voltage":227,"Factor":0.61}}',
    ),
  );
  assert.equal(routed.kind === 'readings' && routed.readings.map((r) => [r.metric, r.value, r.unit]), [
    ['total', 0.03, 'kWh'],
    ['power_1', 11, 'W'],
    ['power_2', 0, 'W'],
    ['voltage', 227, 'V'],
    ['factor', 0.61, undefined],
  ]);
});

test.run();
