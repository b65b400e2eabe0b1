import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_ERRORS, type ApiErrorCode } from '../protocol/api-errors.ts';
import { HubError } from './hub-error.ts';

test('a HubError carries its code, message and extras, and is an Error', () => {
  const rows = [{ line: 2, message: 'ts: not a time' }];
  const err = new HubError('invalid_csv', '1 row is invalid', { rows });
  assert.ok(err instanceof Error);
  assert.is(err.name, 'HubError');
  assert.is(err.code, 'invalid_csv');
  assert.is(err.message, '1 row is invalid');
  assert.equal(err.extra, { rows });
  assert.equal(new HubError('not_found', 'no user "x"').extra, {});
});

/** Never called: `npm run typecheck` fails if any of these lines stops being an error. */
export function codesTheCheckerRefuses(union: 'bad_token' | 'unauthorized'): void {
  // @ts-expect-error a code not in the registry
  new HubError('no_such_code', 'm');
  // @ts-expect-error invalid_csv is answered 422 or 400, never 401
  new HubError('invalid_csv', 'm', { status: 401 });
  // @ts-expect-error bad_request has one status: the thrower cannot pick another
  new HubError('bad_request', 'm', { status: 400 });
  // @ts-expect-error a code known only as a union cannot pick a status
  new HubError(union, 'm', { status: 400 });
  new HubError(union, 'm'); // but may be thrown as it is
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('every code of the registry is one the hub answers somewhere: no entry outlives its last use', () => {
  const text = sources(import.meta.dirname)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = (Object.keys(API_ERRORS) as ApiErrorCode[]).filter((code) => !text.includes(`'${code}'`));
  assert.equal(unused, [], `in the registry but never in hub/: ${unused.join(', ')}; remove them from protocol/api-errors.ts`);
});

test.run();
