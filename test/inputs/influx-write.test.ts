// InfluxDB line protocol on the API port (docs/API.md "InfluxDB line protocol"): 204 only
// after commit, InfluxDB's partial-write answer naming each bad line with the good points
// stored, precisions, gzip within a bound, sensor tokens with their sensors and rooms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { request, json, type RawResponse } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { latest, sensors } from '../support/http.ts';
import { createSensorToken, seedDemo } from '../support/access-setup.ts';
import { perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

function write(port: number, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(port, path, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body });
}

test('POST /write: 204 once committed, and the mapping: sensor from sensor or host, room, metric from measurement and field', async () => {
  const hub = await startHub();
  const body = [
    `temperature,sensor=rack1,room=server-room value=24.5 ${T0}`,
    `cpu,host=web-1 usage_idle=97.5,usage_user=2i,count=3u ${T0}`,
    `# a comment line`,
    ``,
    `Disk.IO,host=web-1 value=5 ${T0 + 1}`,
  ].join('\n');
  const res = await write(hub.httpPort, '/write?db=telegraf&precision=ms', body);
  assert.is(res.status, 204, res.text);
  // Nothing to wait for: 204 means committed, so latest already has them.
  const rows = (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.room}/${r.metric}/${r.unit}/${r.value}/${r.ts}`);
  assert.equal(rows, [
    `rack1/server-room/temperature/C/24.5/${T0}`,
    `web-1/default/cpu_count//3/${T0}`,
    `web-1/default/cpu_usage_idle//97.5/${T0}`,
    `web-1/default/cpu_usage_user//2/${T0}`,
    `web-1/default/disk_io//5/${T0 + 1}`,
  ]);
  const listed = await sensors(hub.httpPort);
  assert.equal(
    listed.map((s) => [s.sensor, (s as { source?: string }).source]),
    [
      ['rack1', 'influx'],
      ['web-1', 'influx'],
    ],
  );
});

test('precision: ns by default, and us, ms, s, m, h; the v2 API takes ns, us, ms, s', async () => {
  const hub = await startHub();
  const s = Math.floor(T0 / 1000);
  const cases: [string, string][] = [
    ['/write', `${T0}123456`],
    ['/write?precision=n', `${T0 + 1}000000`],
    ['/write?precision=u', `${T0 + 2}000`],
    ['/write?precision=ms', `${T0 + 3}`],
    ['/write?precision=s', `${s + 1}`],
    ['/write?precision=m', `${Math.floor(s / 60) + 1}`],
    ['/api/v2/write?org=o&bucket=b&precision=us', `${T0 + 4}999`],
  ];
  for (const [i, [path, ts]] of cases.entries()) {
    const res = await write(hub.httpPort, path, `p${i},sensor=prec value=${i} ${ts}`);
    assert.is(res.status, 204, `${path}: ${res.text}`);
  }
  const byMetric = new Map((await latest(hub.httpPort)).map((r) => [r.metric, r.ts]));
  assert.equal(
    [0, 1, 2, 3, 4, 5, 6].map((i) => byMetric.get(`p${i}`)),
    [T0, T0 + 1, T0 + 2, T0 + 3, (s + 1) * 1000, (Math.floor(s / 60) + 1) * 60_000, T0 + 4],
  );
  const bad = await write(hub.httpPort, '/api/v2/write?precision=h', `x,sensor=prec value=1 1`);
  assert.is(bad.status, 400);
  assert.match(json<{ message: string }>(bad).message, 'precision must be one of ns, us, ms, s');
});

test("bad lines: 400 with InfluxDB's partial write naming each one, and the good points stored", async () => {
  const hub = await startHub();
  const body = [
    `cpu,host=a value=1 ${T0}`,
    `bad line here`,
    `cpu,host=b value=2 ${T0}`,
    `cpu,region=x value=3 ${T0}`,
    `cpu,host=bad\\ id value=4 ${T0}`,
    `cpu,host=c value=5,state="on",up=true ${T0}`,
  ].join('\n');
  const res = await write(hub.httpPort, '/write?db=x&precision=ms', body);
  assert.is(res.status, 400);
  const error = json<{ error: string }>(res).error;
  assert.is(
    error,
    [
      `partial write: unable to parse 'bad line here': missing fields`,
      `unable to map 'cpu,region=x value=3 ${T0}': no sensor: tag the point with sensor=<id> (or host=<id>)`,
      `refused 'cpu,host=bad\\ id value=4 ${T0}' field value: sensor id "bad id" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$ dropped=1`,
    ].join('\n'),
  );
  assert.match(String(res.headers['x-influxdb-error']), /^partial write: unable to parse 'bad line here': missing fields unable to map/);
  // The good points are stored, and the text and boolean fields are left out without an error.
  assert.equal(
    (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.metric}/${r.value}`),
    ['a/cpu/1', 'b/cpu/2', 'c/cpu/5'],
  );
  // Only bad lines: InfluxDB lists them without "partial write".
  const none = await write(hub.httpPort, '/write', 'bad1\nbad2');
  assert.is(json<{ error: string }>(none).error, "unable to parse 'bad1': missing fields\nunable to parse 'bad2': missing fields");
  // The v2 API: the same text in its own shape.
  const v2 = await write(hub.httpPort, '/api/v2/write?org=o&bucket=b', 'bad1');
  assert.is(v2.status, 400);
  assert.equal(json(v2), { code: 'invalid', message: "unable to parse 'bad1': missing fields" });
});

test('gzip bodies are taken; a gzip bomb gets 413 with nothing stored; an unknown encoding 415', async () => {
  const hub = await startHub();
  const ok = await write(hub.httpPort, '/write?precision=ms', gzipSync(`g,sensor=gz value=7 ${T0}`), { 'content-encoding': 'gzip' });
  assert.is(ok.status, 204, ok.text);
  assert.equal(
    (await latest(hub.httpPort)).map((r) => r.value),
    [7],
  );
  // 64 MiB of the same line compress to about 100 KB: far over the limit once decompressed.
  const line = Buffer.from(`g,sensor=gz value=8 ${T0 + 1}\n`);
  const bomb = gzipSync(Buffer.concat(Array.from({ length: (64 * 1024 * 1024) / line.length }, () => line)), { level: 9 });
  assert.ok(bomb.length < 1024 * 1024, `the bomb is small (${bomb.length} bytes)`);
  const res = await write(hub.httpPort, '/write?precision=ms', bomb, { 'content-encoding': 'gzip' });
  assert.is(res.status, 413);
  assert.match(json<{ error: string }>(res).error, 'once decompressed');
  assert.equal(
    (await latest(hub.httpPort)).map((r) => r.value),
    [7],
  );
  const br = await write(hub.httpPort, '/write', 'x', { 'content-encoding': 'br' });
  assert.is(br.status, 415);
  const notGzip = await write(hub.httpPort, '/write', 'not gzip at all', { 'content-encoding': 'gzip' });
  assert.is(notGzip.status, 400);
});

test('a body over the limit: 413 before anything is stored', async () => {
  const hub = await startHub();
  const big = Buffer.alloc(11 * 1024 * 1024, 'x');
  const res = await write(hub.httpPort, '/write', big);
  assert.is(res.status, 413);
  assert.ok(json<{ error: string }>(res).error.length > 0);
});

test('GET and HEAD /ping: 204 with X-Influxdb-Version; /query answers CREATE DATABASE and lists no databases', async () => {
  const hub = await startHub();
  for (const method of ['GET', 'HEAD']) {
    const res = await request(hub.httpPort, '/ping', { method });
    assert.is(res.status, 204, method);
    assert.match(String(res.headers['x-influxdb-version']), /^1\.8\./);
  }
  const created = await request(hub.httpPort, `/query?q=${encodeURIComponent('CREATE DATABASE "telegraf"')}`, { method: 'POST' });
  assert.equal(json(created), { results: [{ statement_id: 0 }] });
  const form = await request(hub.httpPort, '/query', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'q=CREATE+DATABASE+x%3B+SHOW+DATABASES%3B+SELECT+*+FROM+cpu',
  });
  const results = json<{ results: { statement_id: number; error?: string; series?: unknown }[] }>(form).results;
  assert.is(results.length, 3);
  assert.equal(results[1]!.series, [{ name: 'databases', columns: ['name'], values: [] }]);
  assert.match(String(results[2]!.error), 'takes writes only');
});

test('sensor tokens: none or a wrong one is refused (401); a token writes only its sensors and rooms (partial write)', async () => {
  const hub = await startHub();
  const { root } = await seedDemo(hub.httpPort);
  const token = await createSensorToken(hub.httpPort, { sensor: 'lab-*', rooms: ['lab'] }, root);
  const body = `t,sensor=lab-1,room=lab value=1 ${T0}\nt,sensor=office-1,room=lab value=2 ${T0}\nt,sensor=lab-2,room=office value=3 ${T0}`;

  const none = await write(hub.httpPort, '/write?precision=ms', body);
  assert.is(none.status, 401);
  assert.match(json<{ error: string }>(none).error, 'requires a sensor token');
  const wrong = await write(hub.httpPort, '/api/v2/write?precision=ms', body, { authorization: 'Token not-a-token' });
  assert.is(wrong.status, 401);
  assert.is(json<{ code: string }>(wrong).code, 'unauthorized');

  // Each way of sending it: Token, Bearer, Basic password, the p parameter.
  const ways: [string, Record<string, string>][] = [
    ['/write?precision=ms', { authorization: `Token ${token.token}` }],
    ['/write?precision=ms', { authorization: `Bearer ${token.token}` }],
    ['/write?precision=ms', { authorization: `Basic ${Buffer.from(`anyone:${token.token}`).toString('base64')}` }],
    [`/write?precision=ms&u=x&p=${encodeURIComponent(token.token)}`, {}],
  ];
  for (const [path, headers] of ways) {
    const res = await write(hub.httpPort, path, body, headers);
    assert.is(res.status, 400, `${JSON.stringify(headers)}: ${res.text}`);
    const error = json<{ error: string }>(res).error;
    assert.match(
      error,
      /^partial write: refused 't,sensor=office-1,room=lab value=2 \d+' field value: token t-\S+ allows sensor ids matching "lab-\*"/,
    );
    assert.match(
      error,
      /refused 't,sensor=lab-2,room=office value=3 \d+' field value: token t-\S+ allows rooms lab, not "office" dropped=2$/,
    );
  }
  const answer = await request(hub.httpPort, '/api/v1/latest', { headers: { authorization: `Bearer ${root}` } });
  assert.equal(
    json<{ readings: { sensor: string }[] }>(answer).readings.map((r) => r.sensor),
    ['lab-1'],
  );
  // A login writes too: an operator into its rooms; a viewer not at all.
  const { sandy, alex } = await seedLogins(hub.httpPort, root);
  const asSandy = await write(hub.httpPort, '/write?precision=ms', `t,sensor=gh-1,room=greenhouse value=4 ${T0}`, {
    authorization: `Token ${sandy}`,
  });
  assert.is(asSandy.status, 204, asSandy.text);
  const asAlex = await write(hub.httpPort, '/write?precision=ms', `t,sensor=lr-1,room=living-room value=5 ${T0}`, {
    authorization: `Bearer ${alex}`,
  });
  assert.is(asAlex.status, 403);
});

/** The demo users' sessions (seedDemo made them; logging in again is cheaper than threading them through). */
async function seedLogins(port: number, _root: string): Promise<{ sandy: string; alex: string }> {
  const { login, DEMO_PASSWORD } = await import('../support/access-setup.ts');
  return { sandy: (await login(port, 'sandy', DEMO_PASSWORD)).token, alex: (await login(port, 'alex', DEMO_PASSWORD)).token };
}

test('a write while the store cannot commit: 503 with Retry-After, and nothing claimed stored', async () => {
  const hub = await startHub({ storeFaults: { seed: 3, commitFailureRate: 1, commitDelayMs: 0 }, storeUnavailableAfterMs: 300 });
  const res = await write(hub.httpPort, '/write?precision=ms', `f,sensor=fail value=1 ${T0}`);
  assert.is(res.status, 503);
  assert.ok(Number(res.headers['retry-after']) > 0);
  assert.match(json<{ error: string }>(res).error, 'store is unavailable');
});

test('a sensor and metric named constructor or __proto__ are data, and Object.prototype is untouched', async () => {
  const hub = await startHub();
  const res = await write(hub.httpPort, '/write?precision=ms', `constructor,sensor=constructor,room=constructor __proto__=1,value=2 ${T0}`);
  assert.is(res.status, 204, res.text);
  const rows = (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.room}/${r.metric}/${r.value}`);
  assert.equal(rows, ['constructor/constructor/constructor/2', 'constructor/constructor/constructor___proto__/1']);
  assert.is(({} as Record<string, unknown>).constructor, Object);
});

test.run();
