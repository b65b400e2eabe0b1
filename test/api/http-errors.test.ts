// Contract §2: "Errors: the right HTTP status and {"error":{"code","message"}}" — also for the
// requests Node's HTTP parser or fastify refuse before any route sees them (docs/API.md
// "Errors"), for bodies a route cannot take, and for query parameters a route does not take.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, type RawResponse } from '../support/api-client.ts';
import { withTimeout } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

const hub = sharedHub();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

interface RawAnswer {
  /** everything the hub sent */
  text: string;
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Writes `bytes` on a fresh connection and reads until the hub closes it: what a client without Node's HTTP parser sees. */
async function raw(bytes: string): Promise<RawAnswer> {
  const { httpPort } = await hub();
  const text = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(httpPort, '127.0.0.1');
      perTest.add('raw socket', async () => void socket.destroy());
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.write(bytes);
    }),
    10_000,
    'the hub closing the connection',
  );
  const [head = '', body = ''] = text.split(/\r\n\r\n(.*)/s);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? NaN);
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { text, status, headers, body };
}

/** The contract's error body, with a message that is a sentence. */
function assertContractError(
  answer: { status: number; body: string; contentType: string | undefined },
  status: number,
  code: string,
): void {
  assert.is(answer.status, status, `status (body: ${answer.body.slice(0, 200)})`);
  assert.match(String(answer.contentType), /^application\/json/, 'a JSON body');
  const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(Object.keys(parsed), ['error'], 'only "error" at the top');
  assert.is(parsed.error?.code, code, 'error.code');
  assert.type(parsed.error?.message, 'string');
  assert.ok(String(parsed.error?.message).length > 20, `a message that says something: ${String(parsed.error?.message)}`);
}

const fromRaw = (a: RawAnswer) => ({ status: a.status, body: a.body, contentType: a.headers.get('content-type') });
const fromResponse = (r: RawResponse) => ({ status: r.status, body: r.text, contentType: r.headers['content-type'] });

// ---------------------------------------------------------------- refused by Node's HTTP parser

test('a 20 KB request header gets 431 with the contract’s error body, not Node’s', async () => {
  const a = await raw(`GET /api/v1/latest HTTP/1.1\r\nHost: hub\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assertContractError(fromRaw(a), 431, 'header_too_large');
  assert.is(Number(a.headers.get('content-length')), Buffer.byteLength(a.body), 'Content-Length matches the body');
});

test('thousands of small headers, over the limit together, get the same 431', async () => {
  const many = Array.from({ length: 3_000 }, (_, i) => `h${i}: v\r\n`).join('');
  assertContractError(fromRaw(await raw(`GET /api/v1/latest HTTP/1.1\r\nHost: hub\r\n${many}\r\n`)), 431, 'header_too_large');
});

test('a malformed request line gets 400 with the contract’s error body', async () => {
  assertContractError(fromRaw(await raw('GARBAGE\r\n\r\n')), 400, 'bad_request');
});

test('a header line without a colon gets 400 with the contract’s error body', async () => {
  assertContractError(fromRaw(await raw('GET /api/v1/latest HTTP/1.1\r\nHost: hub\r\nBad Header Line\r\n\r\n')), 400, 'bad_request');
});

test('Content-Length together with Transfer-Encoding gets 400 with the contract’s error body', async () => {
  const a = await raw(
    'POST /api/v1/report-now HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  );
  assertContractError(fromRaw(a), 400, 'bad_request');
});

test('a malformed request after a good one on a kept-alive connection gets its own 400 after the first answer', async () => {
  // An open loopback hub answers only requests addressed to a loopback name (DNS rebinding)
  const a = await raw('GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGARBAGE\r\n\r\n');
  assert.is(a.status, 200, 'the first request is answered');
  const second = a.text.slice(a.text.indexOf('HTTP/1.1', 1));
  assert.match(second, /^HTTP\/1\.1 400 /);
  assert.is((JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, 'bad_request');
});

test('an Expect header other than 100-continue gets 417 with the contract’s error body', async () => {
  assertContractError(
    fromRaw(await raw('GET /api/v1/latest HTTP/1.1\r\nHost: hub\r\nExpect: magic\r\nConnection: close\r\n\r\n')),
    417,
    'expectation_failed',
  );
});

// ---------------------------------------------------------------- refused by fastify's router

test('a URL with a bad percent-encoding gets 400 with the contract’s error body', async () => {
  assertContractError(fromRaw(await raw('GET /api/v1/%ZZ HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n')), 400, 'bad_request');
});

test('a path parameter over the router’s limit gets 414 with the contract’s error body', async () => {
  const { httpPort } = await hub();
  assertContractError(fromResponse(await request(httpPort, `/api/v1/users/${'a'.repeat(200)}`, { method: 'DELETE' })), 414, 'uri_too_long');
});

test('a path no route has gets 404 not_found', async () => {
  const { httpPort } = await hub();
  assertContractError(fromResponse(await request(httpPort, '/api/v1/nothing-here')), 404, 'not_found');
});

test('a known path with a method it does not answer gets 405 with Allow, not 404', async () => {
  const { httpPort } = await hub();
  const del = await request(httpPort, '/api/v1/latest', { method: 'DELETE' });
  assertContractError(fromResponse(del), 405, 'method_not_allowed');
  assert.is(del.headers.allow, 'GET, HEAD');
  const put = await request(httpPort, '/api/v1/users/bob', { method: 'PATCH' });
  assertContractError(fromResponse(put), 405, 'method_not_allowed');
  assert.is(put.headers.allow, 'DELETE, PUT', 'a route with a parameter counts too');
});

// ---------------------------------------------------------------- bodies

function post(port: number, path: string, contentType: string | null, body: string | Buffer): Promise<RawResponse> {
  return request(port, path, { method: 'POST', headers: contentType === null ? {} : { 'content-type': contentType }, body });
}

test('a body that is not JSON gets 400 bad_request saying where it broke', async () => {
  const { httpPort } = await hub();
  const res = await post(httpPort, '/api/v1/report-now', 'application/json', '{abc}');
  assertContractError(fromResponse(res), 400, 'bad_request');
  assert.match(res.text, /not valid JSON/);
});

test('an empty body declared as JSON gets 400 bad_request', async () => {
  const { httpPort } = await hub();
  assertContractError(fromResponse(await post(httpPort, '/api/v1/report-now', 'application/json', '')), 400, 'bad_request');
});

test('a JSON body with a "__proto__" key gets 400 naming the key, not "not valid JSON"', async () => {
  const { httpPort } = await hub();
  const res = await post(httpPort, '/api/v1/report-now', 'application/json', '{"__proto__":{"timeout_ms":0}}');
  assertContractError(fromResponse(res), 400, 'bad_request');
  assert.match(res.text, /__proto__/);
});

test('a JSON body over the route’s limit gets 413 too_large', async () => {
  const { httpPort } = await hub();
  const big = JSON.stringify({ sensor: 'x'.repeat(2 * 1024 * 1024) });
  assertContractError(fromResponse(await post(httpPort, '/api/v1/report-now', 'application/json', big)), 413, 'too_large');
});

test('a Content-Type the route does not take gets 415 unsupported_media_type: text/plain, XML, CSV to a JSON route', async () => {
  const { httpPort } = await hub();
  for (const type of ['text/plain', 'application/xml', 'text/csv']) {
    const res = await post(httpPort, '/api/v1/report-now', type, '{}');
    assertContractError(fromResponse(res), 415, 'unsupported_media_type');
    assert.match(res.text, /application\/json/, `${type}: the message says what to send`);
  }
  assertContractError(fromResponse(await post(httpPort, '/api/v1/report-now', null, '{}')), 415, 'unsupported_media_type');
});

test('JSON to the upload route gets 415 unsupported_media_type', async () => {
  const { httpPort } = await hub();
  assertContractError(fromResponse(await post(httpPort, '/api/v1/readings', 'application/json', '{}')), 415, 'unsupported_media_type');
});

// ---------------------------------------------------------------- query parameters

test('routes that take no parameters refuse one with 400 bad_parameter, as latest and history do', async () => {
  const { httpPort } = await hub();
  for (const path of [
    '/metrics?room=greenhouse',
    '/api/v1/sensors?room=x',
    '/api/v1/whoami?x=1',
    '/api/v1/users?all=1',
    '/api/v1/tokens?x=1',
  ]) {
    assertContractError(fromResponse(await request(httpPort, path)), 400, 'bad_parameter');
  }
  const report = await request(httpPort, '/api/v1/report-now?sensor=x', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assertContractError(fromResponse(report), 400, 'bad_parameter');
  const stream = await request(httpPort, '/api/v1/stream?token=abc', {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    },
  });
  assertContractError(fromResponse(stream), 400, 'bad_parameter');
});

test('the same routes without parameters still answer, and health takes any (probes add their own)', async () => {
  const { httpPort } = await hub();
  for (const path of ['/metrics', '/api/v1/sensors', '/api/v1/whoami', '/api/v1/health?probe=lb-1']) {
    const res = await request(httpPort, path);
    assert.is(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
  }
});

test.run();
