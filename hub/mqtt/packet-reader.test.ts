import mqttPacket, { type Packet } from 'mqtt-packet';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PacketReader, type PublishView } from './packet-reader.ts';

const v5 = { protocolVersion: 5 } as const;

function reader() {
  const publishes: PublishView[] = [];
  const others: Packet[] = [];
  const errors: string[] = [];
  const r = new PacketReader(
    (p) => publishes.push({ ...p, payload: Buffer.from(p.payload) }),
    (p) => others.push(p),
    (m) => errors.push(m),
    1024 * 1024,
  );
  return { r, publishes, others, errors };
}

const packets = Buffer.concat([
  mqttPacket.generate({ cmd: 'connack', sessionPresent: true, reasonCode: 0, properties: { receiveMaximum: 20 } }, v5),
  mqttPacket.generate(
    {
      cmd: 'publish',
      topic: 'zigbee2mqtt/kitchen',
      payload: '{"temperature":21.5}',
      qos: 1,
      messageId: 7,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifier: 3, contentType: 'application/json' },
    },
    v5,
  ),
  mqttPacket.generate({ cmd: 'publish', topic: 'tele/th/SENSOR', payload: Buffer.alloc(300, 0x61), qos: 0, retain: true, dup: false }, v5),
  mqttPacket.generate({ cmd: 'pingresp' }, v5),
]);

test('packets in one chunk and packets cut anywhere give the same: publishes read, the rest to mqtt-packet', () => {
  for (const step of [packets.length, 1, 7]) {
    const { r, publishes, others, errors } = reader();
    for (let i = 0; i < packets.length; i += step) r.push(packets.subarray(i, i + step));
    assert.equal(errors, [], `step ${step}`);
    assert.equal(
      publishes.map((p) => [p.topic, p.payload.length, p.qos, p.retain, p.messageId]),
      [
        ['zigbee2mqtt/kitchen', 20, 1, false, 7],
        ['tele/th/SENSOR', 300, 0, true, 0],
      ],
      `step ${step}`,
    );
    assert.is(publishes[0]!.payload.toString(), '{"temperature":21.5}');
    assert.equal(
      others.map((p) => p.cmd),
      ['connack', 'pingresp'],
    );
  }
});

test('a packet over the announced maximum, or one that overruns itself, is an error', () => {
  const big = reader();
  const small = new PacketReader(
    () => {},
    () => {},
    (m) => big.errors.push(m),
    100,
  );
  small.push(mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(200), qos: 0, retain: false, dup: false }, v5));
  assert.match(big.errors[0] ?? '', 'over the 100 announced');
  const bad = reader();
  // PUBLISH QoS 1, remaining length 4: a topic length of 10 that does not fit
  bad.r.push(Buffer.from([0x32, 4, 0, 10, 0x61, 0x62]));
  assert.is(bad.errors.length, 1);
});

test.run();
