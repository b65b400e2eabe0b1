// The sensor token rules (sensor-tokens.ts), in process: when the sensor port asks for a token,
// what a hello with one may claim, and when a connected sensor must go. docs/ADMIN.md "Sensor tokens".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HubError } from '../hub-error.ts';
import { AccessEvents } from './access-context.ts';
import type { AccessChange } from './access-records.ts';
import { SensorTokens } from './sensor-tokens.ts';

function tokens(exposed = false, persist: (changes: AccessChange[]) => Promise<void> = async () => {}) {
  const events = new AccessEvents();
  let ruleChanges = 0;
  events.onSensorRulesChanged(() => ruleChanges++);
  const t = new SensorTokens({ persist, now: () => Date.UTC(2026, 0, 1), events }, exposed);
  return { t, ruleChanges: () => ruleChanges };
}

test('the port asks for no token until an unrevoked one exists, and again none once all are revoked; an exposed hub always asks', async () => {
  const { t } = tokens();
  assert.ok(t.checkHello(undefined, 'rack-1', 'lab').ok);
  const { view } = await t.create({ sensor: 'rack-*', rooms: ['lab'] }, 'sue');
  assert.ok(t.required);
  assert.is(t.checkHello(undefined, 'rack-1', 'lab').ok, false);
  await t.revoke(view.id);
  assert.is(t.required, false);
  assert.is(tokens(true).t.required, true);
});

test('a hello is admitted only for a sensor id the pattern matches, in a room the token allows, also the room the sensor is known in', async () => {
  const { t } = tokens();
  const { token, view } = await t.create({ sensor: 'rack-*', rooms: ['lab', 'server-room'] }, 'sue');
  const verdict = (secret: string | undefined, sensor: string, room: string, knownRoom?: string) => {
    const v = t.checkHello(secret, sensor, room, knownRoom);
    return v.ok ? 200 : v.code;
  };
  assert.equal(t.checkHello(token, 'rack-1', 'lab'), { ok: true, tokenId: view.id });
  assert.is(verdict(token, 'rack-1', 'server-room', 'lab'), 200, 'moving between its own rooms');
  assert.is(verdict(undefined, 'rack-1', 'lab'), 401, 'no token');
  assert.is(verdict('rws_not-a-token', 'rack-1', 'lab'), 401, 'unknown token');
  assert.is(verdict(token, 'desk-1', 'lab'), 403, 'a sensor id outside the pattern');
  assert.is(verdict(token, 'rack-1', 'kitchen'), 403, 'a room the token does not allow');
  assert.is(verdict(token, 'rack-1', 'lab', 'kitchen'), 403, 'taking over a sensor known in another room');
  await t.create({ sensor: 'desk-*', rooms: ['lab'] }, 'sue');
  await t.revoke(view.id);
  assert.is(verdict(token, 'rack-1', 'lab'), 401, 'revoked, while another token keeps the port asking');
});

test('the first token cuts sensors that came in without one; a revoked token cuts its sensors; listeners hear each change', async () => {
  const { t, ruleChanges } = tokens();
  assert.ok(t.stillAdmitted(null).ok);
  const { view } = await t.create({ sensor: '*', rooms: ['*'] }, 'sue');
  assert.is(ruleChanges(), 1);
  assert.is(t.stillAdmitted(null).ok, false);
  assert.ok(t.stillAdmitted(view.id).ok);
  await t.revoke(view.id);
  await t.revoke(view.id);
  assert.is(ruleChanges(), 2, 'revoking a revoked token changes nothing');
  assert.is(t.stillAdmitted(view.id).ok, false);
});

test('a token is kept only once persisted: a failing store leaves the rules as they were', async () => {
  const { t, ruleChanges } = tokens(false, () => Promise.reject(new Error('disk full')));
  await t.create({ sensor: '*', rooms: ['*'] }, 'sue').then(
    () => assert.unreachable('created'),
    (err: Error) => assert.is(err.message, 'disk full'),
  );
  assert.equal(t.list(), []);
  assert.is(t.required, false);
  assert.is(ruleChanges(), 0);
});

test('a bad request is a HubError with its code, and no secret is ever listed', async () => {
  const { t } = tokens();
  const code = (input: Record<string, unknown>) =>
    t.create(input, 'sue').then(
      () => 'created',
      (err: unknown) => (err instanceof HubError ? err.code : String(err)),
    );
  assert.is(await code({ sensor: 'rack-*', rooms: [] }), 'bad_token_request');
  assert.is(await code({ sensor: 'rack-*', rooms: ['no rooms with spaces'] }), 'bad_rooms');
  assert.is(await code({ sensor: 'rack-*', rooms: ['lab'], note: 7 }), 'bad_token_request');
  await t.revoke('t-none').then(
    () => assert.unreachable('revoked'),
    (err: unknown) => assert.is(err instanceof HubError && err.code, 'not_found'),
  );
  const { token } = await t.create({ sensor: 'rack-*', rooms: ['lab', 'lab'] }, 'sue');
  const [listed] = t.list();
  assert.equal(listed?.rooms, ['lab'], 'rooms without repeats');
  assert.not.ok(JSON.stringify(t.list()).includes(token));
});

test.run();
