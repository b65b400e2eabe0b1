// The hub's logger (hub/setup/log.ts; docs/ADMIN.md "Logs"): secrets are redacted by path and scrubbed from
// text, the "hub listening" line survives a high level, and a hub that made its own logger
// writes every line to its file before stop() returns and leaves no worker behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { buildHub } from '../hub.ts';
import { announcer, safeLoggerOptions, scrubSecrets } from './log.ts';
import { resolveHubOptions } from './options.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** A logger with the hub's redaction and scrub, writing its lines into an array. */
function capture(level: pino.LevelWithSilent = 'trace'): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ ...safeLoggerOptions, level }, sink), lines };
}

test('token, password and authorization are redacted at the top, one or two levels down, and in request headers', () => {
  const { log, lines } = capture();
  log.info({ token: 'S1', hello: { type: 'hello', sensor: 'a', token: 'S2' }, msg: { token: 'S3' } }, 'hello');
  log.info({ session: { hello: { token: 'S4' } }, password: 'S5', user: { name: 'sue', password: 'S6' } }, 'login');
  log.info({ headers: { authorization: 'Bearer S7', cookie: 'sid=S8' }, authorization: 'Basic S9' }, 'headers');
  log.info({ req: { method: 'GET', url: '/api/v1/latest', headers: { authorization: 'Bearer S10' } } }, 'request');
  const text = lines.join('');
  for (let i = 1; i <= 10; i++) assert.not.ok(text.includes(`S${i}"`) || text.includes(`S${i} `), `S${i} is not in the log: ${text}`);
  assert.ok(text.includes('"sensor":"a"'), 'the safe fields stay');
  assert.ok(text.includes('"name":"sue"'));
  assert.ok(text.includes('[redacted]'));
});

test('a secret inside text is scrubbed: a quoted sensor line, a bearer token, a token in a URL', () => {
  const { log, lines } = capture();
  log.warn({ line: '{"type":"hello","v":1,"sensor":"a","token":"tok-SECRET-123"}' }, 'bad line');
  log.error('refused {"type":"hello","token": "tok-SECRET-456"} from 127.0.0.1');
  log.info({ header: 'Authorization: Bearer SECRET-XYZ' }, 'header dump');
  log.info({ url: '/api/v1/stream?room=kitchen&token=SECRET-URL&x=1' }, 'ws');
  const text = lines.join('');
  for (const secret of ['tok-SECRET-123', 'tok-SECRET-456', 'SECRET-XYZ', 'SECRET-URL'])
    assert.not.ok(text.includes(secret), `${secret} is not in: ${text}`);
  for (const line of lines) JSON.parse(line); // still one JSON object per line
  assert.ok(text.includes('room=kitchen&token=[redacted]&x=1'));
  assert.ok(text.includes('\\"sensor\\":\\"a\\"'), 'the rest of the quoted line stays');
});

test('scrubSecrets leaves a line without secrets as it is', () => {
  const line = '{"level":30,"msg":"hub listening","tcpPort":7777,"httpPort":8080,"tokens":3,"tokenId":"t1"}\n';
  assert.is(scrubSecrets(line), line);
});

test('an HTTP parse error is logged without the raw bytes of the request head', () => {
  const { log, lines } = capture();
  const err = Object.assign(new Error('Parse Error: Invalid header value char'), {
    code: 'HPE_INVALID_HEADER_TOKEN',
    rawPacket: Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer SECRET-RAW\r\n'),
  });
  log.trace({ err }, 'client error');
  const entry = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
  assert.is(entry.err.code, 'HPE_INVALID_HEADER_TOKEN');
  assert.is(entry.err.rawPacket, undefined);
});

test('a request is logged with its method and URL, never its headers', () => {
  const { log, lines } = capture();
  log.info({
    req: { method: 'GET', url: '/api/v1/latest?token=SECRET-Q', headers: { authorization: 'Bearer SECRET-H' }, socket: { remotePort: 5 } },
  });
  const entry = JSON.parse(lines[0]!) as { req: Record<string, unknown> };
  assert.equal(entry.req, { method: 'GET', url: '/api/v1/latest?token=[redacted]', remotePort: 5 });
});

test('the announcer writes at info when the level is warn, and nothing when silent', () => {
  const warn = capture('warn');
  warn.log.info('not this');
  announcer(warn.log).info({ tcpPort: 1, httpPort: 2 }, 'hub listening');
  assert.is(warn.lines.length, 1);
  assert.is((JSON.parse(warn.lines[0]!) as { msg: string }).msg, 'hub listening');

  const silent = capture('silent');
  announcer(silent.log).info('hub listening');
  assert.is(silent.lines.length, 0);
});

test('logFile defaults to <data>/logs/roomwatch.log, a relative one is taken from the data folder, and null means none', () => {
  assert.is(resolveHubOptions({ dataDir: '/srv/rw' }).logFile, '/srv/rw/logs/roomwatch.log');
  assert.is(resolveHubOptions({ dataDir: '/srv/rw', logFile: 'x/hub.log' }).logFile, '/srv/rw/x/hub.log');
  assert.is(resolveHubOptions({ dataDir: '/srv/rw', logFile: '/var/log/rw.log' }).logFile, '/var/log/rw.log');
  assert.is(resolveHubOptions({ dataDir: '/srv/rw', logFile: null }).logFile, null);
  assert.throws(() => resolveHubOptions({ logFile: '' }), /logFile/);
  assert.throws(() => resolveHubOptions({ dataDir: '/srv/a:b' }), /logFile/);
});

test('an in-process hub writes every line to its file before stop() returns, and leaves no log worker behind', async () => {
  const { path: dataDir } = await tempDataDir();
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, dataDir, logLevel: 'error' });
  // error: the file target is on, stdout stays quiet but for the "hub listening" line
  await hub.start();
  hub.log.error({ probe: 1 }, 'a line written just before stop');
  await hub.stop();
  const logs = join(dataDir, 'logs');
  const files = readdirSync(logs);
  assert.is(files.length, 1, files.join(', '));
  assert.match(files[0]!, /^roomwatch\.\d{4}-\d{2}-\d{2}\.1\.log$/);
  const lines = readFileSync(join(logs, files[0]!), 'utf8').trim().split('\n');
  assert.equal(
    lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['a line written just before stop'],
    'only error lines, and this one is there: the transport was flushed',
  );
  const open = process.getActiveResourcesInfo().filter((r) => /worker|messageport/i.test(r));
  assert.equal(open, [], 'no worker thread or message port is left');
  hub.log.error('after stop: dropped, not thrown');
});

test('a silent hub starts no log worker and writes no file', async () => {
  const { path: dataDir } = await tempDataDir();
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, dataDir, logLevel: 'silent' });
  await hub.start();
  await hub.stop();
  assert.not.ok(existsSync(join(dataDir, 'logs')));
});

test.run();
