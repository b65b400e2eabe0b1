// docs/API.md "GET /api/v1/history.csv": a store that fails answers 503 store_unavailable (the
// request was fine: try again later), never a 4xx and never a 200 that breaks off before its
// first row; and the export's place is given back. The store is a fake here, so it can fail.
import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANONYMOUS } from '../access/principal.ts';
import type { ExportHandle, ReadingStore } from '../store/reading-store.ts';
import type { ErrorBody } from './api-error.ts';
import { answerError } from './error-answers.ts';
import { registerHistoryRoute } from './history-route.ts';
import { registerRequestValidation } from './request-validation.ts';

/** A store whose every export fails as the store would (e.g. out of memory) before any CSV. */
function failingStore(message: string): ReadingStore {
  return {
    exportHistory(): ExportHandle {
      return { done: Promise.reject(new Error(message)), credit() {}, cancel() {} };
    },
  } as unknown as ReadingStore;
}

function app(store: ReadingStore) {
  const a = Fastify();
  a.decorateRequest('principal', null as never);
  a.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
  });
  a.setErrorHandler(answerError);
  registerRequestValidation(a); // the route's query schema takes the API's validator
  const slots = registerHistoryRoute(a, { store, limits: { maxExports: 1, maxExportsPerUser: 1, stallTimeoutMs: 60_000 } });
  return { a, slots };
}

test('a store failure before the first row answers 503 store_unavailable, with the contract’s error body, and frees the export’s place', async () => {
  const { a, slots } = app(failingStore('Out of Memory Error: could not allocate block of size 256.0 KiB'));
  const res = await a.inject({ method: 'GET', url: '/api/v1/history.csv' });
  assert.is(res.statusCode, 503);
  const body = res.json<ErrorBody>();
  assert.is(body.error.code, 'store_unavailable');
  assert.match(body.error.message, /Out of Memory Error.*try again later/);
  assert.is(slots.active, 0, 'the place is free again');
  // With one place in all, a second export would be refused if the first had kept it.
  assert.is((await a.inject({ method: 'GET', url: '/api/v1/history.csv' })).statusCode, 503);
  await a.close();
});

test.run();
