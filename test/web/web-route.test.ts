// How the hub serves the dashboard (docs/DASHBOARD.md "Built and served"), without a browser:
// the page and its hashed assets without a login (they carry no data) while the API stays
// closed, the cache headers, the Content-Security-Policy, gzip; and the build itself.
import { utimesSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildWeb, webBuildStaleness } from '../../scripts/build-web.ts';
import { CONTENT_SECURITY_POLICY, OPEN_HUB_META } from '../../hub/http/web-route.ts';
import { request } from '../support/api-client.ts';
import { seedDemo, startAccessHub } from '../support/access-setup.ts';
import { startHub, tempDataDir } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('on a hub with users, the page and its assets are served without a login, the API is not', async () => {
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  assert.is((await request(h.httpPort, '/api/v1/latest')).status, 401);
  for (const path of ['/', '/sensors', '/upload', '/admin', '/room/living-room?range=24h&zoom=1..2']) {
    const res = await request(h.httpPort, path);
    assert.is(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.is(res.headers['cache-control'], 'no-cache');
    assert.is(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.is(res.headers['x-content-type-options'], 'nosniff');
  }
  const index = (await request(h.httpPort, '/')).text;
  assert.not.match(index, /roomwatch-hub/, 'a hub with users never tells the page it is open');
  const js = /\/assets\/(main-[A-Z0-9]+\.js)/.exec(index)?.[1];
  assert.ok(js, index);
  const plain = await request(h.httpPort, `/assets/${js}`);
  assert.is(plain.status, 200);
  assert.is(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(String(plain.headers['content-type']), /^text\/javascript/);
  const gz = await request(h.httpPort, `/assets/${js}`, { headers: { 'accept-encoding': 'gzip, br' } });
  assert.is(gz.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(gz.body).equals(plain.body), 'the gzipped asset is the same file');
  assert.ok(gz.body.length < plain.body.length / 2, `gzip: ${gz.body.length} of ${plain.body.length} bytes`);
  const missing = await request(h.httpPort, '/assets/main-NOPE.js');
  assert.is(missing.status, 404);
  assert.is((JSON.parse(missing.text) as { error: { code: string } }).error.code, 'not_found');
});

test('an open hub says so in its page; the page and its assets are gzipped only for a client that accepts gzip: q-values count, q=0 refuses it', async () => {
  const h = await startHub();
  const index = await request(h.httpPort, '/');
  // an open hub says so in its page, so a room view asks for its history without waiting for whoami
  assert.ok(index.text.includes(OPEN_HUB_META), index.text);
  const js = /\/assets\/(main-[A-Z0-9]+\.js)/.exec(index.text)?.[1];
  assert.ok(js, index.text);
  const cases: [string, boolean][] = [
    ['gzip', true],
    ['br;q=1.0, gzip;q=0.5', true],
    ['*', true],
    ['x-gzip', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000, br', false],
    ['gzip;q=0, *', false], // named with q=0: * does not bring it back
    ['*;q=0', false],
    ['identity', false],
    ['br, deflate', false],
  ];
  for (const path of ['/', `/assets/${js}`]) {
    for (const [accept, gzipped] of cases) {
      const res = await request(h.httpPort, path, { headers: { 'accept-encoding': accept } });
      assert.is(res.status, 200, `${path} ${accept}`);
      assert.is(res.headers['content-encoding'], gzipped ? 'gzip' : undefined, `${path} with Accept-Encoding: ${accept}`);
      assert.match(String(res.headers.vary), /accept-encoding/i);
      const body = gzipped ? gunzipSync(res.body) : res.body;
      assert.ok(body.length > 0 && (path === '/' ? /<html/i.test(body.toString()) : true), `${path} ${accept}: the file itself`);
    }
  }
});

test('the build writes index.html that loads hashed assets with no inline script, and is stale once web/ is newer', async () => {
  const dir = join((await tempDataDir()).path, 'web');
  assert.match(webBuildStaleness(dir) ?? '', /missing/);
  const built = await buildWeb(dir);
  assert.equal(built.assets.map((a) => a.replace(/-[A-Z0-9]{8}\./, '-HASH.')).sort(), ['main-HASH.css', 'main-HASH.js']);
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  for (const a of built.assets) assert.ok(html.includes(`/assets/${a}`), `index.html loads ${a}`);
  assert.not.match(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
  assert.not.match(html, /\bstyle=|<style/, 'no inline style');
  assert.is(webBuildStaleness(dir), null);
  const old = new Date(1_000);
  utimesSync(join(dir, 'index.html'), old, old); // as if web/ had changed since
  assert.match(webBuildStaleness(dir) ?? '', /changed/);
});

test.run();
