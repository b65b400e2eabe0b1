// The package as a deployment gets it: `npm pack`, the tarball installed into a temp folder with
// `npm install --omit=dev`, and its three bins run with npx from there. The hub they start runs
// the compiled build (.build/server/, scripts/build-server.ts), with no TypeScript and no tsx
// at run time; the Dockerfile and docs/INSTALL.md install the same way.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { REPO_ROOT, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { install, pack, run, runToEnd } from './installed-package.ts';

// Packing (which builds) took 8 s and installing from the registry 26 s on a busy 2-core
// machine, more when npm's cache is cold: three times that is the budget.
testTimeout(180_000);
const perFile = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await perFile.run();
  exitWhenDone();
});

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const UNIT = readFileSync(join(REPO_ROOT, 'deploy', 'roomwatch.service'), 'utf8');
/** The Dockerfile's HEALTHCHECK command (its exec form, a JSON array). */
const HEALTHCHECK = JSON.parse(/^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(DOCKERFILE)?.[1] ?? 'null') as string[] | null;

/** Runs the Dockerfile's health check against the hub on `port`; answers its exit code. */
async function dockerHealthcheck(port: number): Promise<number | null> {
  const [command, ...args] = HEALTHCHECK!;
  const p = run(command === 'node' ? process.execPath : command!, args, REPO_ROOT, perTest, { ROOMWATCH_HTTP_PORT: String(port) });
  return (await withTimeout(p.finished, 30_000, 'the health check')).code;
}

let work = '';
let tarball = '';

test('npm pack: the tarball holds the compiled server, the dashboard and the systemd unit; no sources, tests or docs', async () => {
  work = await mkdtemp(join(tmpdir(), 'roomwatch-install-'));
  perFile.add(`temp dir ${work}`, () => rm(work, { recursive: true, force: true }));
  tarball = await pack(work, perTest);
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const f of [
    'package.json',
    'README.md',
    '.build/server/hub.js',
    '.build/server/store-worker.js',
    '.build/server/roomwatch.js',
    '.build/server/sensors.js',
    '.build/web/index.html',
    'deploy/roomwatch.service',
  ])
    assert.ok(files.includes(`package/${f}`), `${f} in the tarball (it holds: ${files.join(', ')})`);
  const unwanted = files.filter((f) => /\.ts$|\/test\/|\/docs\/|\/web\/src\/|\.png$/.test(f));
  assert.equal(unwanted, [], 'no TypeScript, tests, docs or screenshots');
});

test('installed with npm install --omit=dev: npx roomwatch-hub is healthy, npx roomwatch latest reads what npx roomwatch-sensors sent, the dashboard is served, SIGTERM stops it cleanly', async () => {
  assert.ok(tarball, 'the pack test made a tarball');
  const app = await install(tarball, work, perTest);
  const data = join(work, 'data');

  const hub = run(
    'npx',
    ['roomwatch-hub', '--host', '127.0.0.1', '--http-port', '0', '--tcp-port', '0', '--data', data, '--log-file', 'none'],
    app,
    perTest,
  );
  const ports = await waitFor(
    'the installed hub to log "hub listening"',
    () => {
      const line = hub
        .stdout()
        .split('\n')
        .find((l) => l.includes('"hub listening"'));
      return line ? (JSON.parse(line) as { tcpPort: number; httpPort: number }) : undefined;
    },
    60_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${hub.stdout().slice(-2000)}\nstderr: ${hub.stderr().slice(-2000)}`);
  });
  const base = `http://127.0.0.1:${ports.httpPort}`;
  const health = (await (await fetch(`${base}/api/v1/health`)).json()) as { status: string; version: string };
  assert.is(health.status, 'ok');
  assert.is(health.version, '0.1.0');

  const fleet = await runToEnd(
    'npx',
    ['roomwatch-sensors', '--count', '2', '--port', String(ports.tcpPort), '--interval', '200', '--duration', '2', '--prefix', 'packed'],
    app,
    60_000,
    perTest,
  );
  assert.match(fleet.stderr + fleet.stdout, /fleet stopped: 2 sensors/);

  const latest = await runToEnd('npx', ['roomwatch', 'latest', '--hub', base], app, 60_000, perTest);
  for (const sensor of ['packed-001', 'packed-002']) assert.ok(latest.stdout.includes(sensor), `${sensor} in: ${latest.stdout}`);

  const page = await fetch(`${base}/`);
  assert.is(page.status, 200);
  const html = await page.text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, `the page names its script: ${html}`);
  const asset = await fetch(`${base}${script}`);
  assert.is(asset.status, 200);
  assert.ok((await asset.text()).length > 1000, 'the dashboard script is served');

  // What the Dockerfile and the systemd unit start exists where they say, and their health check works.
  for (const [file, text] of [
    ['Dockerfile', DOCKERFILE],
    ['deploy/roomwatch.service', UNIT],
  ] as const) {
    const path = /\/opt\/roomwatch\/(node_modules\/roomwatch\/\.build\/server\/hub\.js)/.exec(text)?.[1];
    assert.ok(path && existsSync(join(app, path)), `${file} starts ${path}, which the install has`);
  }
  assert.match(
    DOCKERFILE,
    /npm install --omit=dev --no-audit --no-fund \/tmp\/roomwatch-\*\.tgz/,
    'the Dockerfile installs as this test does',
  );
  assert.ok(HEALTHCHECK, 'the Dockerfile has a HEALTHCHECK in exec form');
  assert.is(await dockerHealthcheck(ports.httpPort), 0, 'healthy while the hub runs');

  // The hub was not compiled at start: the installed package has no sources to compile.
  assert.not.match(hub.stdout() + hub.stderr(), /dashboard built|server built/);

  // npx does not pass SIGTERM on to the bin it started (it exits 143 and leaves the hub
  // running): signal the group, as a terminal's Ctrl-C does. Services run the bin itself
  // (deploy/roomwatch.service, the Dockerfile).
  hub.signal('SIGTERM');
  await withTimeout(hub.finished, 30_000, 'the installed hub to stop after SIGTERM');
  assert.match(hub.stdout(), /"msg":"hub stopped"/, `a clean stop (stderr: ${hub.stderr().slice(-2000)})`);
  assert.not.match(hub.stdout(), /stop failed/);
  assert.is(await dockerHealthcheck(ports.httpPort), 1, 'unhealthy once it stopped');
});

test.run();
