// PROTOCOL.md §2 "Errors": the one error handler answers a HubError with its code's status from
// the registry and the contract's body, and an error that names no code with the code of its status.
import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_ERRORS } from '../../protocol/api-errors.ts';
import { HubError } from '../hub-error.ts';
import { codeOfStatus, type ErrorBody } from './api-error.ts';
import { answerError } from './error-answers.ts';

/** A bare fastify whose one route throws what `make` gives. */
async function answer(make: () => Error) {
  const app = Fastify();
  app.setErrorHandler(answerError);
  app.get('/x', async () => {
    throw make();
  });
  const res = await app.inject({ method: 'GET', url: '/x' });
  await app.close();
  return { status: res.statusCode, headers: res.headers, body: res.json<ErrorBody>() };
}

test('a HubError is answered with its code’s status from the registry and the contract’s body', async () => {
  for (const [code, status] of [
    ['forbidden_room', 403],
    ['too_many_series', 413],
    ['store_unavailable', 503],
  ] as const) {
    const res = await answer(() => new HubError(code, `because ${code}`));
    assert.is(res.status, status, code);
    assert.equal(res.body, { error: { code, message: `because ${code}` } });
  }
});

test('an upload’s bad rows ride in the body; a body that is not CSV gets invalid_csv’s other status, 400', async () => {
  const rows = [{ line: 3, message: 'value: not a number' }];
  const bad = await answer(() => new HubError('invalid_csv', '1 row is invalid; nothing was stored', { rows }));
  assert.is(bad.status, 422);
  assert.equal(bad.body.error.rows, rows);
  const notCsv = await answer(() => new HubError('invalid_csv', 'the body is not a CSV file', { status: 400, rows: [] }));
  assert.is(notCsv.status, 400);
  assert.equal(notCsv.body.error, { code: 'invalid_csv', message: 'the body is not a CSV file', rows: [] });
});

test('a HubError that says when to try again is answered with Retry-After', async () => {
  const res = await answer(() => new HubError('too_many_attempts', 'too many failed logins', { retryAfterS: 7 }));
  assert.is(res.status, 429);
  assert.is(res.headers['retry-after'], '7');
  const none = await answer(() => new HubError('rate_limited', 'slow down'));
  assert.is(none.headers['retry-after'], undefined);
});

test('any other error is a 500 internal that shows nothing of it', async () => {
  const res = await answer(() => new Error('secret path /var/lib/roomwatch'));
  assert.is(res.status, 500);
  assert.is(res.body.error.code, 'internal');
  assert.not.match(res.body.error.message, /secret/);
});

test('the code given to a status with no code of its own is one whose registry status is that status', () => {
  for (let status = 400; status <= 599; status++) {
    const code = codeOfStatus(status);
    if (code === 'bad_request' || code === 'internal') continue; // the fallbacks of 4xx and 5xx
    assert.is(API_ERRORS[code].status, status, `${status} -> ${code}`);
  }
  assert.is(codeOfStatus(404), 'not_found');
  assert.is(codeOfStatus(418), 'bad_request');
  assert.is(codeOfStatus(502), 'internal');
});

test.run();
