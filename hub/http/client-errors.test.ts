// Requests refused before any route (docs/API.md "Errors"): the answer written on the raw socket
// carries the contract's error body (PROTOCOL.md §2), whatever Node's reason for refusing.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FastifyBaseLogger } from 'fastify';
import { withTimeout } from '../../test/support/hub-process.ts';
import { answerClientError, clientErrorRefusal, rawErrorResponse } from './client-errors.ts';

const quiet = { log: { trace() {} } as unknown as FastifyBaseLogger };

test('each parser refusal has its status and code: 431 for headers over the limit, 408 for slowness, else 400', () => {
  assert.equal(
    [
      { code: 'HPE_HEADER_OVERFLOW' },
      { code: 'ERR_HTTP_REQUEST_TIMEOUT' },
      { code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered' },
      {},
    ].map((e) => {
      const r = clientErrorRefusal(e);
      return [r.status, r.code];
    }),
    [
      [431, 'header_too_large'],
      [408, 'request_timeout'],
      [400, 'bad_request'],
      [400, 'bad_request'],
    ],
  );
  assert.match(clientErrorRefusal({ code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered' }).message, /Invalid method/);
});

test('the raw answer is one whole HTTP/1.1 response whose Content-Length counts the body’s bytes', () => {
  const text = rawErrorResponse({ status: 431, code: 'header_too_large', message: 'trop long: ça dépasse' });
  const [head, body] = text.split('\r\n\r\n') as [string, string];
  assert.match(head, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(head, /\r\nContent-Length: (\d+)/);
  assert.is(Number(/Content-Length: (\d+)/.exec(head)![1]), Buffer.byteLength(body));
  assert.equal(JSON.parse(body), { error: { code: 'header_too_large', message: 'trop long: ça dépasse' } });
});

test('a request whose head never ends gets 408 with the contract’s body once Node’s request timeout passes', async () => {
  const server = http.createServer({ requestTimeout: 200, headersTimeout: 200, connectionsCheckingInterval: 50 }, (_req, res) =>
    res.end('unexpected'),
  );
  server.on('clientError', answerClientError.bind(quiet));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('GET /api/v1/latest HTTP/1.1\r\nHost: hub\r\n'); // and never the empty line
    await withTimeout(once(socket, 'close'), 5_000, 'the server closing the slow connection');
    const text = Buffer.concat(chunks).toString('utf8');
    assert.match(text, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    assert.equal(body.error.code, 'request_timeout');
  } finally {
    server.close();
    server.closeAllConnections();
  }
});

test.run();
