// How the client meets PROTOCOL.md §2: filters as query parameters, error bodies, and every
// failure ending as the typed error that main maps to an exit code (§3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLatestBody, checkSensorsBody } from './api-types.ts';
import { HubBadAnswer, HubRefused, HubUnreachable } from './errors.ts';
import { createHubClient } from './hub-client.ts';
import type { HubClientOptions } from './hub-client.ts';
import { closedPort, startFakeHub } from './testing/fake-hub.ts';

const reading = { sensor: 's1', room: 'hall', metric: 'temperature', value: 21.5, unit: 'C', ts: 1_763_712_000_000 };

function client(url: string, extra: Partial<HubClientOptions> = {}) {
  return createHubClient({ baseUrl: new URL(url), timeoutMs: 10_000, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.unreachable('expected the request to fail');
}

test('a JSON answer comes back checked, with its text as the hub sent it', async () => {
  const hub = await startFakeHub({ latest: { readings: [reading] } });
  try {
    const answer = await client(hub.url).getJson('/api/v1/latest', {}, checkLatestBody);
    assert.equal(answer.value, { readings: [reading] });
    assert.is(answer.text, JSON.stringify({ readings: [reading] }));
    assert.is(hub.requests[0]?.headers.accept, 'application/json');
  } finally {
    await hub.close();
  }
});

test('lists are sent comma-joined as query parameters and empty ones are left out [§2 Filters]', async () => {
  const hub = await startFakeHub();
  try {
    await client(hub.url).getJson('/api/v1/latest', { sensor: ['a', 'b:1'], room: [], metric: 'temperature' }, checkLatestBody);
    const url = new URL(hub.requests[0]?.url ?? '', hub.url);
    assert.is(url.pathname, '/api/v1/latest');
    assert.is(url.searchParams.get('sensor'), 'a,b:1');
    assert.is(url.searchParams.has('room'), false);
    assert.is(url.searchParams.get('metric'), 'temperature');
    assert.ok(hub.requests[0]?.url.includes('sensor=a,b'), 'the commas stay literal');
  } finally {
    await hub.close();
  }
});

test('a hub URL with a path prefix keeps it, as behind a reverse proxy', async () => {
  const hub = await startFakeHub();
  try {
    await rejection(client(`${hub.url}/roomwatch`).getJson('/api/v1/latest', {}, checkLatestBody));
    assert.is(hub.requests[0]?.url, '/roomwatch/api/v1/latest');
  } finally {
    await hub.close();
  }
});

test('a token is sent as a bearer Authorization header', async () => {
  const hub = await startFakeHub();
  try {
    await client(hub.url, { token: 't0k3n' }).getJson('/api/v1/sensors', {}, checkSensorsBody);
    assert.is(hub.requests[0]?.headers.authorization, 'Bearer t0k3n');
  } finally {
    await hub.close();
  }
});

test("an error status with the contract's error body is HubRefused with its status, code and message", async () => {
  const body = JSON.stringify({ error: { code: 'bad_filter', message: 'unknown room' } });
  const hub = await startFakeHub({ refuse: { status: 400, body } });
  try {
    const error = await rejection(client(hub.url).getJson('/api/v1/latest', {}, checkLatestBody));
    assert.instance(error, HubRefused);
    const refused = error as HubRefused;
    assert.is(refused.status, 400);
    assert.is(refused.code, 'bad_filter');
    assert.is(refused.message, 'unknown room');
  } finally {
    await hub.close();
  }
});

test('the rows of a refused upload are kept', async () => {
  const body = JSON.stringify({ error: { code: 'invalid_csv', message: '2 bad rows', rows: [{ line: 3, message: 'bad ts' }] } });
  const hub = await startFakeHub({ refuse: { status: 422, body } });
  try {
    const error = (await rejection(client(hub.url).getJson('/api/v1/latest', {}, checkLatestBody))) as HubRefused;
    assert.equal(error.rows, [{ line: 3, message: 'bad ts' }]);
  } finally {
    await hub.close();
  }
});

test('an error status without an error body (a proxy page) is still HubRefused, with its first line', async () => {
  const hub = await startFakeHub({ refuse: { status: 502, body: 'Bad Gateway from nginx\n<html>', contentType: 'text/html' } });
  try {
    const error = (await rejection(client(hub.url).getJson('/api/v1/latest', {}, checkLatestBody))) as HubRefused;
    assert.instance(error, HubRefused);
    assert.is(error.status, 502);
    assert.is(error.code, undefined);
    assert.is(error.message, 'Bad Gateway from nginx');
  } finally {
    await hub.close();
  }
});

test('a 200 answer that is not JSON, or not the contract shape, is HubBadAnswer naming the field', async () => {
  const notJson = await startFakeHub({ refuse: { status: 200, body: '<html>' } });
  const wrongShape = await startFakeHub({ refuse: { status: 200, body: JSON.stringify({ readings: [{ ...reading, value: '21.5' }] }) } });
  try {
    assert.instance(await rejection(client(notJson.url).getJson('/api/v1/latest', {}, checkLatestBody)), HubBadAnswer);
    const error = await rejection(client(wrongShape.url).getJson('/api/v1/latest', {}, checkLatestBody));
    assert.instance(error, HubBadAnswer);
    assert.match((error as Error).message, /readings\[0\]\.value/);
  } finally {
    await notJson.close();
    await wrongShape.close();
  }
});

test('nothing listening is HubUnreachable naming the hub URL and "connection refused"', async () => {
  const port = await closedPort();
  const error = await rejection(client(`http://127.0.0.1:${port}`).getJson('/api/v1/latest', {}, checkLatestBody));
  assert.instance(error, HubUnreachable);
  assert.is((error as HubUnreachable).url, `http://127.0.0.1:${port}`);
  assert.is((error as HubUnreachable).reason, 'connection refused');
});

test('a hub that never answers is HubUnreachable after the timeout', async () => {
  const hub = await startFakeHub({ hang: true });
  try {
    const error = await rejection(client(hub.url, { timeoutMs: 200 }).getJson('/api/v1/latest', {}, checkLatestBody));
    assert.instance(error, HubUnreachable);
    assert.match((error as HubUnreachable).reason, /no answer within 200 ms/);
  } finally {
    await hub.close();
  }
});

test('an abort by the user is rethrown as its own reason, not as a hub failure', async () => {
  const hub = await startFakeHub({ hang: true });
  const interrupt = new AbortController();
  try {
    const pending = rejection(client(hub.url, { signal: interrupt.signal }).getJson('/api/v1/latest', {}, checkLatestBody));
    // Abort once the request has surely reached the server, rather than after a guessed delay.
    while (hub.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    interrupt.abort();
    const error = await pending;
    assert.is(error, interrupt.signal.reason);
  } finally {
    await hub.close();
  }
});

test('the WebSocket URL swaps http for ws and https for wss, keeping a path prefix, with the token header', () => {
  const plain = client('http://127.0.0.1:8080').websocketTarget('/api/v1/stream');
  assert.is(plain.url.href, 'ws://127.0.0.1:8080/api/v1/stream');
  assert.equal(plain.headers, {});
  const proxied = client('https://proxy.example/roomwatch', { token: 't0k3n' }).websocketTarget('/api/v1/stream');
  assert.is(proxied.url.href, 'wss://proxy.example/roomwatch/api/v1/stream');
  assert.equal(proxied.headers, { authorization: 'Bearer t0k3n' });
});

test('postJson sends JSON and may widen the timeout for one request', async () => {
  const hub = await startFakeHub({ reportNow: { body: { id: 'c-1', requested: 0, responded: 0, missing: [], readings: [] } } });
  try {
    const answer = await client(hub.url).postJson('/api/v1/report-now', { timeout_ms: 0 }, (body) => ({ ok: true, value: body }), {
      timeoutMs: 20_000,
    });
    assert.equal(answer.value, { id: 'c-1', requested: 0, responded: 0, missing: [], readings: [] });
    assert.is(hub.requests[0]?.headers['content-type'], 'application/json');
    assert.is(hub.requests[0]?.body.toString('utf8'), '{"timeout_ms":0}');
  } finally {
    await hub.close();
  }
});

test('requestJson makes PUT and DELETE exchanges, gives the status, and may send another token or none', async () => {
  const hub = await startFakeHub({ access: { users: [] } });
  const anything = (body: unknown) => ({ ok: true as const, value: body });
  try {
    const hubClient = client(hub.url, { token: 'client-token' });
    const created = await hubClient.requestJson('PUT', '/api/v1/users/sue', anything, {
      body: { role: 'admin', rooms: ['hall'], password: 'password' },
    });
    assert.is(created.status, 201);
    assert.is(hub.requests[0]?.authorization, 'Bearer client-token');
    const removed = await hubClient.requestJson('DELETE', '/api/v1/users/sue', anything, { token: null });
    assert.is(removed.status, 200);
    assert.is(hub.requests[1]?.method, 'DELETE');
    assert.is(hub.requests[1]?.authorization, undefined, 'token: null sends none');
    await hubClient.requestJson('GET', '/api/v1/users', anything, { token: 'other', query: { x: ['a', 'b'] } });
    assert.is(hub.requests[2]?.authorization, 'Bearer other');
    assert.is(hub.requests[2]?.url, '/api/v1/users?x=a,b');
  } finally {
    await hub.close();
  }
});

test('a 429 refusal keeps its Retry-After seconds', async () => {
  const body = JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } });
  const hub = await startFakeHub({ refuse: { status: 429, body, headers: { 'retry-after': '30' } } });
  try {
    const error = await rejection(client(hub.url).getJson('/api/v1/latest', {}, checkLatestBody));
    assert.instance(error, HubRefused);
    assert.is((error as HubRefused).retryAfterS, 30);
  } finally {
    await hub.close();
  }
});

test('a streamed exchange that goes silent is HubUnreachable after the timeout', async () => {
  const hub = await startFakeHub({ hang: true });
  try {
    const error = await rejection(client(hub.url, { timeoutMs: 200 }).stream({ method: 'GET', path: '/api/v1/history.csv' }));
    assert.instance(error, HubUnreachable);
    assert.match((error as HubUnreachable).reason, /no answer within 200 ms/);
  } finally {
    await hub.close();
  }
});

test('a streamed exchange refused by the hub is HubRefused, before any body is handed out', async () => {
  const body = JSON.stringify({ error: { code: 'bad_parameter', message: 'bad every' } });
  const hub = await startFakeHub({ refuse: { status: 400, body } });
  try {
    const error = await rejection(client(hub.url).stream({ method: 'GET', path: '/api/v1/history.csv' }));
    assert.instance(error, HubRefused);
    assert.is((error as HubRefused).code, 'bad_parameter');
  } finally {
    await hub.close();
  }
});

test.run();
