// The registry of the user API's error codes (PROTOCOL.md §2 "Errors"): each code with a status
// a client can act on and a meaning docs/API.md can print.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_ERRORS, isApiErrorCode, statusOfCode, type ApiErrorCode } from './api-errors.ts';

const codes = Object.keys(API_ERRORS) as ApiErrorCode[];

test('every code is a short snake_case name', () => {
  for (const code of codes) assert.match(code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, code);
});

test('every code has an error status, 4xx or 5xx, and so has each of its other statuses', () => {
  for (const code of codes) {
    const spec: { status: number; also?: readonly { status: number; when: string }[] } = API_ERRORS[code];
    assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, `${code}: ${spec.status}`);
    for (const other of spec.also ?? []) {
      assert.ok(other.status >= 400 && other.status <= 599, `${code}: ${other.status}`);
      assert.is.not(other.status, spec.status, `${code}: its other status is its own`);
      assert.ok(other.when.trim().length > 10, `${code} ${other.status}: say when`);
    }
  }
});

test('every code has a meaning of one sentence, with no line break and no table pipe', () => {
  for (const code of codes) {
    const { meaning } = API_ERRORS[code];
    assert.ok(meaning.length >= 20, `${code}: "${meaning}" is too short to mean anything`);
    assert.match(meaning, /^[A-Z`].*\.$/, `${code}: a sentence starts with a capital and ends with a full stop`);
    assert.not.match(meaning, /[\n|]/, `${code}: the meaning goes in one cell of a Markdown table`);
  }
});

test('a code is known only as an own key of the registry, never a name of Object.prototype', () => {
  assert.ok(isApiErrorCode('forbidden_room'));
  assert.is(statusOfCode('forbidden_room'), 403);
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'Forbidden_room', '', 'no_such_code'])
    assert.not.ok(isApiErrorCode(name), name);
  assert.not.ok(isApiErrorCode(404));
  assert.not.ok(isApiErrorCode(undefined));
});

test('the statuses the contract names for its refusals are the registry’s', () => {
  // PROTOCOL.md §2 and docs/API.md: these pairs are what clients match on.
  const expected: [ApiErrorCode, number][] = [
    ['bad_filter', 400],
    ['bad_parameter', 400],
    ['unauthorized', 401],
    ['bad_token', 401],
    ['token_expired', 401],
    ['forbidden', 403],
    ['forbidden_room', 403],
    ['not_found', 404],
    ['method_not_allowed', 405],
    ['too_large', 413],
    ['invalid_csv', 422],
    ['rate_limited', 429],
    ['too_many_uploads', 429],
    ['internal', 500],
    ['starting', 503],
    ['stopping', 503],
    ['store_unavailable', 503],
  ];
  for (const [code, status] of expected) assert.is(statusOfCode(code), status, code);
});

test.run();
