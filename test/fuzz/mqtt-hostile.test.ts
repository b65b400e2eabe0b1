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
import { MAX_NUMBER_PAYLOAD_BYTES, plainNumber } from '../../hub/mqtt/mappings/ha-discovery.ts';
import { nameCacheSize } from '../../hub/mqtt/mqtt-names.ts';

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

test.run();
