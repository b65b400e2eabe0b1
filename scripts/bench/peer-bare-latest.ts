/**
 * The `latest` row's peer: a bare Node HTTP server that answers the hub's own `/api/v1/latest`
 * bodies (plain and gzip, fetched from the hub once) from memory, and 304 to a matching
 * If-None-Match, with nothing else to do. Driven by the same client process as the hub
 * (latest-client.ts), its p99 is this machine's floor for a Node server on keep-alive, so the
 * ratio says what the hub adds to it.
 *
 *   node --import tsx scripts/bench/peer-bare-latest.ts PLAIN_FILE GZIP_FILE ETAG   # prints its port
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [plainFile, gzipFile, etag] = process.argv.slice(2);
if (!plainFile || !gzipFile || !etag) throw new Error('usage: peer-bare-latest.ts PLAIN_FILE GZIP_FILE ETAG');
const plain = readFileSync(plainFile);
const gzip = readFileSync(gzipFile);

const server = http.createServer((req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag });
    res.end();
    return;
  }
  const gz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gz ? gzip : plain;
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(gz ? { 'content-encoding': 'gzip' } : {}),
    etag,
    'content-length': body.length,
  });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
