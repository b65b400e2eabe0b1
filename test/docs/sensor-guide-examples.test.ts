// docs/SENSOR-PROTOCOL.md "A small sensor in Python", run as the guide says, against a real hub
// that requires sensor tokens: with its token in ROOMWATCH_SENSOR_TOKEN the sensor's readings are
// stored; without one it prints the hub's 401 and exits 1. The code is taken from the guide
// itself, so the guide cannot drift from what works. Needs python3 (skipped, saying so, without it).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSensorToken } from '../support/access-setup.ts';
import { json, request, waitFor } from '../support/api-client.ts';
import { REPO_ROOT, startHub, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const WAIT_MS = 30_000;
const hasPython = spawnSync('python3', ['--version']).status === 0;

/** The guide's fenced block that follows `heading`. */
function exampleAfter(heading: string, fence: string): string {
  const guide = readFileSync(join(REPO_ROOT, 'docs', 'SENSOR-PROTOCOL.md'), 'utf8');
  const at = guide.indexOf(heading);
  assert.ok(at >= 0, `the guide has "${heading}"`);
  const start = guide.indexOf('```' + fence + '\n', at);
  const end = guide.indexOf('\n```', start + 1);
  assert.ok(start >= 0 && end > start, `a ${fence} block after "${heading}"`);
  return guide.slice(start + fence.length + 4, end + 1);
}

interface PythonRun {
  exited: Promise<{ code: number | null; stderr: string }>;
  stderr(): string;
}

async function runPythonSensor(tcpPort: number, env: Record<string, string>): Promise<PythonRun> {
  const file = join((await tempDataDir()).path, 'tiny_sensor.py');
  writeFileSync(file, exampleAfter('### A small sensor in Python', 'python'));
  const { ROOMWATCH_SENSOR_TOKEN: _, ...inherited } = process.env;
  const child = spawn('python3', [file, '127.0.0.1', String(tcpPort)], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  perTest.add(`python3 ${file}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { exited, stderr: () => stderr };
}

async function hubWithToken(): Promise<{ tcpPort: number; httpPort: number; token: string }> {
  const h = await startHub();
  const { token } = await createSensorToken(h.httpPort, { sensor: 'py-demo', rooms: ['lab'], note: 'the guide' });
  return { tcpPort: h.tcpPort, httpPort: h.httpPort, token };
}

if (!hasPython) {
  test.skip('the Python sensor of the guide (python3 is not installed here)', () => undefined);
  process.stderr.write('test/docs/sensor-guide-examples: python3 not found; the guide example is not run\n');
} else {
  test("the guide's Python sensor with its token in ROOMWATCH_SENSOR_TOKEN: its readings are stored in room lab", async () => {
    const { tcpPort, httpPort, token } = await hubWithToken();
    const sensor = await runPythonSensor(tcpPort, { ROOMWATCH_SENSOR_TOKEN: token });
    const stored = await waitFor(
      'a reading of py-demo in latest',
      async () => {
        const res = await request(httpPort, '/api/v1/latest?sensor=py-demo');
        return json<{ readings: { room: string; metric: string }[] }>(res).readings[0];
      },
      WAIT_MS,
      100,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\npython stderr: ${sensor.stderr()}`);
    });
    assert.equal([stored.room, stored.metric], ['lab', 'temperature']);
  });

  test("the guide's Python sensor without a token, on a hub that requires one: the hub's 401, exit 1", async () => {
    const { tcpPort } = await hubWithToken();
    const sensor = await runPythonSensor(tcpPort, {});
    const { code, stderr } = await withTimeout(sensor.exited, WAIT_MS, 'the Python sensor refused');
    assert.is(code, 1, stderr);
    assert.match(stderr, /hub error: .*'code': 401/);
  });
}

test.run();
