/**
 * Hostile MQTT messages through the bridge's mapping step (MessageMapper, the discovery index,
 * the name rules): each is refused or mapped with a bounded cost, and none reaches
 * Object.prototype. What a publisher controls: the topic, the payload (up to the bridge's
 * 256 KiB packet bound), and for ESPHome the discovery configs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MAP } from '../../hub/mqtt/map-file.ts';
import { MessageMapper } from '../../hub/mqtt/message-mapper.ts';
import { DiscoveryIndex, MAX_DISCOVERY_TOPIC_CHARS, MAX_NUMBER_PAYLOAD_BYTES, plainNumber } from '../../hub/mqtt/mappings/ha-discovery.ts';
import { nameCacheSize } from '../../hub/ingest/foreign-names.ts';

const MAX_PACKET_PAYLOAD = 256 * 1024 - 64;

test('an ESPHome state of 256 KiB of digits is refused as not_numeric (the number pattern does not backtrack over it)', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  // Before: `\d+\.?\d*` tried every split of the digits, some minutes for this payload.
  for (const payload of [
    '1'.repeat(MAX_PACKET_PAYLOAD) + 'x',
    '1'.repeat(MAX_PACKET_PAYLOAD / 2) + '.' + '1'.repeat(MAX_PACKET_PAYLOAD / 2) + 'x',
  ]) {
    const routed = mapper.route('node/sensor/temperature/state', Buffer.from(payload));
    assert.is(routed.kind, 'refused');
    if (routed.kind === 'refused') assert.is(routed.reason, 'not_numeric');
  }
});

test('a plain number is at most 64 bytes: longer is refused, white space counted', () => {
  assert.is(plainNumber(Buffer.from('21.5')), 21.5);
  assert.is(plainNumber(Buffer.from(' 21.5\n')), 21.5);
  assert.is(plainNumber(Buffer.from('1'.repeat(MAX_NUMBER_PAYLOAD_BYTES))), Number('1'.repeat(MAX_NUMBER_PAYLOAD_BYTES)));
  assert.is(plainNumber(Buffer.from('1'.repeat(MAX_NUMBER_PAYLOAD_BYTES + 1))), null);
  assert.is(plainNumber(Buffer.from(`${' '.repeat(MAX_NUMBER_PAYLOAD_BYTES)}1`)), null);
});

test('plain numbers: NaN, Infinity, 1e309, booleans, hex, non-UTF-8 and empty are refused; the usual forms read', () => {
  for (const bad of ['nan', 'NaN', 'Infinity', '-Infinity', '1e309', 'true', '0x10', '', ' ', '1.2.3', '1e', '.', '+', '22.5 C'])
    assert.is(plainNumber(Buffer.from(bad)), null, bad);
  assert.is(plainNumber(Buffer.from([0x32, 0x31, 0xff])), null, 'non-UTF-8');
  const good: [string, number][] = [
    ['-3', -3],
    ['+3', 3],
    ['3.', 3],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1.5E-2', 0.015],
    ['0', 0],
  ];
  for (const [text, n] of good) assert.is(plainNumber(Buffer.from(text)), n, text);
});

test('long field and friendly names are mapped but not kept: the name cache stays small', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const before = nameCacheSize();
  for (let i = 0; i < 200; i++) {
    const long = `${'Field '.repeat(10_000)}${i}`;
    const routed = mapper.route(`zigbee2mqtt/${long}`, Buffer.from(JSON.stringify({ [long]: i })));
    assert.is(routed.kind, 'readings');
    if (routed.kind === 'readings') {
      assert.is(routed.readings[0]!.sensor.length, 64);
      assert.is(routed.readings[0]!.metric.length, 64);
    }
  }
  const after = nameCacheSize();
  // Before: 400 names of 60,000 characters each were kept (24 million characters).
  assert.ok(after.chars - before.chars < 200 * 2 * 300, `${after.chars - before.chars} characters kept`);
});

const config = (stateTopic: string, unit = 'C'): Buffer => Buffer.from(JSON.stringify({ stat_t: stateTopic, unit_of_meas: unit }));

test('discovery: many config topics naming one state topic are bounded (counted), not held without end', () => {
  const index = new DiscoveryIndex('homeassistant', 100);
  for (let i = 0; i < 1_000; i++) index.accept(`homeassistant/sensor/n${i}/t/config`, config('node/sensor/t/state'));
  // Before: one state topic, and 1,000 config topics kept for it (no bound on those).
  assert.is(index.dropped, 900);
  assert.is(index.size, 1);
  for (let i = 0; i < 100; i++) index.accept(`homeassistant/sensor/n${i}/t/config`, Buffer.alloc(0));
  assert.is(index.size, 0);
  assert.ok(index.accept('homeassistant/sensor/other/t/config', config('other/sensor/t/state')), 'room again once configs are removed');
});

test('discovery: removing one config keeps the entry a later config of another topic made for the same state topic', () => {
  const index = new DiscoveryIndex();
  index.accept('homeassistant/sensor/a/t/config', config('node/sensor/t/state', 'C'));
  index.accept('homeassistant/sensor/b/t/config', config('node/sensor/t/state', 'F'));
  index.accept('homeassistant/sensor/a/t/config', Buffer.alloc(0));
  assert.is(index.get('node/sensor/t/state')?.unit, 'F');
  index.accept('homeassistant/sensor/b/t/config', Buffer.alloc(0));
  assert.is(index.get('node/sensor/t/state'), undefined);
});

test('discovery: hostile configs (long topics, __proto__ templates, odd values) are refused or harmless', () => {
  const index = new DiscoveryIndex();
  assert.not.ok(index.accept('homeassistant/sensor/x/config', config('s'.repeat(MAX_DISCOVERY_TOPIC_CHARS + 1))));
  assert.not.ok(index.accept(`homeassistant/sensor/${'x'.repeat(MAX_DISCOVERY_TOPIC_CHARS)}/config`, config('n/sensor/t/state')));
  assert.is(index.size, 0);
  const hostile = [
    { stat_t: 'n/sensor/p/state', val_tpl: '{{ value_json.__proto__.polluted }}' },
    { stat_t: 'n/sensor/c/state', val_tpl: '{{ value_json.constructor }}' },
    { stat_t: 'n/sensor/x/state', val_tpl: "{{ value_json['a'] | int }}{% for x in range(10**9) %}{% endfor %}" },
    { stat_t: 'n/sensor/u/state', unit_of_meas: { toString: 1 }, dev_cla: 'toString' },
  ];
  for (const [i, c] of hostile.entries()) index.accept(`homeassistant/sensor/h${i}/config`, Buffer.from(JSON.stringify(c)));
  const mapper = new MessageMapper(DEFAULT_MAP);
  const mapperIndex = mapper.discovery!;
  for (const [i, c] of hostile.entries()) mapperIndex.accept(`homeassistant/sensor/h${i}/config`, Buffer.from(JSON.stringify(c)));
  const state = (topic: string, payload: string) => mapper.route(topic, Buffer.from(payload));
  assert.is(state('n/sensor/p/state', '{"__proto__":{"polluted":1}}').kind, 'readings', 'an own field named __proto__ is read as data');
  assert.is(state('n/sensor/c/state', '{"a":1}').kind, 'refused', 'constructor is not an own field');
  assert.is(state('n/sensor/x/state', '5').kind, 'readings', 'a template the hub does not understand: the payload is the value');
  const u = state('n/sensor/u/state', '5');
  assert.ok(u.kind === 'readings' && u.readings[0]!.unit === undefined, 'a unit that is not text, a class named toString: no unit');
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('topics and fields named __proto__, constructor, toString map as data; NaN, Infinity, strings, booleans and deep nesting are not readings', () => {
  const mapper = new MessageMapper(DEFAULT_MAP);
  const weird = '{"__proto__":{"x":1},"constructor":2,"toString":3,"hasOwnProperty":4,"a":"5","b":true,"c":null,"d":1e309}';
  for (const topic of ['zigbee2mqtt/__proto__', 'zigbee2mqtt/constructor', 'tele/toString/SENSOR']) {
    const routed = mapper.route(topic, Buffer.from(weird));
    assert.is(routed.kind, 'readings', topic);
    if (routed.kind === 'readings') {
      const metrics = routed.readings.map((r) => r.metric).sort();
      assert.ok(metrics.includes('constructor') && metrics.includes('to_string'), `${topic}: ${metrics.join(',')}`);
      assert.not.ok(metrics.includes('a') || metrics.includes('b') || metrics.includes('d'), `${topic}: ${metrics.join(',')}`);
    }
  }
  const deep = Buffer.from(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`);
  assert.is(mapper.route('zigbee2mqtt/deep', deep).kind, 'ignored', 'a nested object is not a reading');
  assert.is(mapper.route('zigbee2mqtt/bad', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])).kind, 'refused', 'non-UTF-8 JSON');
  assert.is(({} as Record<string, unknown>).x, undefined);
});

test.run();
