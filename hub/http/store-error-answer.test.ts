// A store that fails during a request (out of memory, a disk error) is answered 503
// store_unavailable, never a 4xx about the input (an upload once got 422 invalid_csv).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Fastify from 'fastify';
import { StoreError } from '../store/reading-store.ts';
import { answerError } from './error-answers.ts';

test('a retryable store error thrown by a route is a 503 store_unavailable with the contract’s body, naming no path', async () => {
  const app = Fastify();
  app.setErrorHandler(answerError);
  app.get('/x', () => {
    throw new StoreError('Out of Memory Error: failed to allocate block in /data/roomwatch.duckdb', true);
  });
  const res = await app.inject({ method: 'GET', url: '/x' });
  assert.is(res.statusCode, 503);
  const body = res.json<{ error: { code: string; message: string } }>();
  assert.is(body.error.code, 'store_unavailable');
  assert.not.match(body.error.message, /\/data/);
  await app.close();
});

test('a store error about the request itself stays a 500', async () => {
  const app = Fastify();
  app.setErrorHandler(answerError);
  app.get('/x', () => {
    throw new StoreError('Conversion Error: could not convert', false);
  });
  const res = await app.inject({ method: 'GET', url: '/x' });
  assert.is(res.statusCode, 500);
  await app.close();
});

test.run();
