import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PARTITIONS,
  defaultHubId,
  fnv1a32,
  HUB_ID_PATTERN,
  msgIdOf,
  ownerKey,
  partitionOf,
  partitionOfSubject,
  sensorOfOwnerKey,
  subjectOf,
} from './cluster-names.ts';

test('FNV-1a 32 matches the published test vectors, over UTF-8 bytes', () => {
  // From the FNV reference test suite (Fowler, Noll, Vo).
  assert.is(fnv1a32(''), 0x811c9dc5);
  assert.is(fnv1a32('a'), 0xe40c292c);
  assert.is(fnv1a32('foobar'), 0xbf9cf968);
  const bytesOfE = new TextEncoder().encode('é'); // 0xc3 0xa9
  let h = 0x811c9dc5;
  for (const b of bytesOfE) h = Math.imul(h ^ b, 0x01000193);
  assert.is(fnv1a32('é'), h >>> 0, 'a non-ASCII id hashes its UTF-8 bytes, not its UTF-16 units');
});

test('a sensor always lands in one partition of 16, and many sensors spread over all of them', () => {
  assert.is(partitionOf('foobar'), 0xbf9cf968 % 16);
  assert.is(partitionOf('sensor-7'), partitionOf('sensor-7'));
  const counts = new Array<number>(PARTITIONS).fill(0);
  for (let i = 0; i < 16_000; i++) counts[partitionOf(`sensor-${i}`)]!++;
  for (const c of counts) assert.ok(c > 700 && c < 1_300, `partition sizes ${counts.join(',')}`);
});

test('subjects and their partitions go both ways; other subjects are not partitions', () => {
  for (let p = 0; p < PARTITIONS; p++) assert.is(partitionOfSubject(subjectOf(p)), p);
  for (const s of [
    'roomwatch.readings.16',
    'roomwatch.readings.01',
    'roomwatch.readings.',
    'roomwatch.other.1',
    'roomwatch.readings.1.2',
  ]) {
    assert.is(partitionOfSubject(s), -1, s);
  }
});

test('message ids name hub, gen and partition, so a retried gen repeats its ids', () => {
  assert.is(msgIdOf('hub-a', 12, 3), 'hub-a.12.3');
  assert.is(msgIdOf('hub-a', 12, 3, 2), 'hub-a.12.3.2');
});

test('owner keys hold any sensor id in KV-safe characters and decode back', () => {
  for (const id of ['s1', 'room/1 sensor.a', '*>', 'é€', '__proto__', 'a'.repeat(200)]) {
    const key = ownerKey(id);
    assert.ok(/^[A-Za-z0-9_-]+$/.test(key), key);
    assert.is(sensorOfOwnerKey(key), id);
  }
});

test('the default hub id is the host, the TCP port and 4 hex digits, in key-safe characters', () => {
  assert.is(defaultHubId('box.local', 7777, 'ab12'), 'box_local-7777-ab12');
  assert.match(defaultHubId('h', 1), /^h-1-[0-9a-f]{4}$/);
  assert.ok(HUB_ID_PATTERN.test(defaultHubId('a very long host name.example.com'.repeat(3), 65535)));
});

test.run();
