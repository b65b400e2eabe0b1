import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecentIdentities } from './recent-identities.ts';

test('a ts seen on a channel is a repeat there, not on another channel', () => {
  const r = new RecentIdentities();
  assert.not.ok(r.repeat(3, 1000));
  assert.ok(r.repeat(3, 1000));
  assert.not.ok(r.repeat(4, 1000), 'another channel');
  r.add(5000, 7);
  assert.ok(r.repeat(5000, 7), 'a channel past the first allocation');
  assert.ok(r.repeat(3, 1000), 'kept through growth');
});

test('only the last four ts of a channel are kept', () => {
  const r = new RecentIdentities();
  for (let ts = 1; ts <= 5; ts++) r.add(1, ts);
  assert.not.ok(r.repeat(1, 1), 'the oldest fell out');
  for (const ts of [3, 4, 5]) assert.ok(r.repeat(1, ts));
});

test.run();
