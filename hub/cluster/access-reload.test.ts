// The access reload of cluster mode: what another hub changed replaces this hub's users, tokens
// and logins, but never over a change of this hub's own made while the rows were being read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import type { AccessState } from '../access/access-records.ts';
import { waitFor } from '../../test/support/api-client.ts';
import { AccessReload } from './access-reload.ts';

const log = pino({ level: 'silent' });
const state = (n: number): AccessState => ({ users: [], tokens: [], sessions: [], maxActivityId: n });

/** A load the test answers by hand, and the states reload() was given. */
function setup() {
  const pending: ((s: AccessState) => void)[] = [];
  const applied: number[] = [];
  const reload = new AccessReload(
    () => new Promise<AccessState>((resolve) => pending.push(resolve)),
    { reload: (s) => applied.push(s.maxActivityId) },
    log,
  );
  const nextLoad = async (): Promise<(s: AccessState) => void> => {
    for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const answer = pending.shift();
    if (!answer) throw new Error('no load was asked for');
    return answer;
  };
  return { reload, applied, nextLoad, pending };
}

test('another hub’s change is read and applied', async () => {
  const { reload, applied, nextLoad } = setup();
  reload.changed();
  (await nextLoad())(state(1));
  await waitFor('the state applied', () => applied.length > 0);
  assert.equal(applied, [1]);
});

test('a change of this hub’s own made while the rows were read: they are read again before any is applied', async () => {
  const { reload, applied, nextLoad } = setup();
  reload.changed();
  const first = await nextLoad();
  let finish!: () => void;
  reload.track(new Promise<void>((r) => (finish = r)));
  first(state(1)); // read before the local change was stored: must not be applied
  finish();
  (await nextLoad())(state(2));
  await waitFor('a state applied', () => applied.length > 0);
  assert.equal(applied, [2]);
});

test('changes announced during a reload cause one more reload after it, not one each', async () => {
  const { reload, applied, nextLoad, pending } = setup();
  reload.changed();
  const first = await nextLoad();
  reload.changed();
  reload.changed();
  first(state(1)); // a change came meanwhile: read again
  (await nextLoad())(state(2));
  await waitFor('a state applied', () => applied.length > 0);
  assert.equal(applied, [2]);
  assert.is(pending.length, 0);
});

test.run();
