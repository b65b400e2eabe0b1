// The simulator as a process: `npm run sensors -- ...` (PROTOCOL.md §3 "Running it").
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ScriptedHub, type PeerConnection } from './scripted-hub.ts';

const root = join(import.meta.dirname, '..');
const hubs: ScriptedHub[] = [];

test.after.each(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

interface Run {
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

function runSensors(args: string[]): Run {
  // The caller's ROOMWATCH_* settings must not leak into what the test asserts.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMWATCH_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'sensors/main.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    exited: new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    ),
    kill: (signal) => child.kill(signal),
  };
}

async function startHub(onConnection?: (peer: PeerConnection) => void): Promise<ScriptedHub> {
  const hub = await ScriptedHub.start(onConnection);
  hubs.push(hub);
  return hub;
}

const ackingHub = (peer: PeerConnection) => {
  peer.autoWelcome = true;
  peer.autoAck = true;
};

// The usage text and each flag's checks are tested in process (cli-options.test.ts); this one
// proves that main.ts turns a usage error into stderr and exit code 2.
test('a bad value exits 2 with a message naming the flag, and nothing on stdout', async () => {
  const { code, stdout, stderr } = await runSensors(['--interval', 'fast']).exited;
  assert.is(code, 2);
  assert.is(stdout, '');
  assert.match(stderr, /--interval must be a whole number from 10 to 86400000, got "fast"/);
});

test('piped, it prints one line when the fleet has started and one summary line on exit, nothing else', async () => {
  const hub = await startHub(ackingHub);
  const { code, stdout, stderr } = await runSensors(['--count', '3', '--port', String(hub.port), '--interval', '50', '--duration', '1'])
    .exited;
  assert.is(code, 0, stderr);
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 2, stdout);
  assert.is(lines[0], `fleet started: 3 sensors -> 127.0.0.1:${hub.port}`);
  assert.match(lines[1]!, /^fleet stopped: 3 sensors, sent [\d,]+ readings, acked [\d,]+, unacked 0, dropped 0, reconnects 0$/);
  const sent = /sent ([\d,]+) readings/.exec(lines[1]!)![1];
  const acked = /acked ([\d,]+), /.exec(lines[1]!)![1];
  assert.is(acked, sent, 'every reading sent was acknowledged before exit');
  assert.is(stderr.replace(/npm warn.*\n/g, ''), '', 'quiet on stderr when not a TTY');
  assert.equal(
    hub.connections.items.map((p) => p.messages.at(-1)?.type),
    ['bye', 'bye', 'bye'],
  );
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops the fleet cleanly: bye, the final acks, exit 0`, async () => {
    const hub = await startHub(ackingHub);
    const run = runSensors(['--count', '3', '--port', String(hub.port), '--interval', '50', '--prefix', 'sig']);
    const peers = [await hub.nextConnection(30_000), await hub.nextConnection(30_000), await hub.nextConnection(30_000)];
    await Promise.all(peers.map((p) => p.next('batch', undefined, 30_000)));
    run.kill(signal);
    const { code, stdout } = await run.exited;
    assert.is(code, 0);
    for (const p of peers) assert.is(p.messages.at(-1)?.type, 'bye');
    assert.match(stdout, /fleet stopped: 3 sensors, .* unacked 0, dropped 0/);
  });
}

test('with no hub listening, it says why and where (connection refused), and exits 1 having stored nothing', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const { code, stdout, stderr } = await runSensors(['--count', '2', '--port', String(port), '--interval', '100', '--duration', '1'])
    .exited;
  assert.is(code, 1, stderr);
  assert.match(stderr, `sensors: cannot connect to the hub at 127.0.0.1:${port}: connection refused`);
  assert.match(stderr, /sensors: [\d,]+ readings were not stored: [\d,]+ not acknowledged by the hub/);
  assert.match(stdout, /fleet stopped: 2 sensors, sent 0 readings, acked 0, unacked [1-9]/);
});

// §1 "Session rules": a bad token is final; a fleet the hub refuses entirely has nothing left to do.
test('when the hub refuses every sensor (401), it exits 1 and says why on stderr', async () => {
  const hub = await startHub((peer) => {
    void peer.next('hello').then(() => {
      peer.send({ type: 'error', code: 401, message: 'bad token' });
      peer.socket.end();
    });
  });
  const { code, stdout, stderr } = await runSensors(['--count', '2', '--port', String(hub.port)]).exited;
  assert.is(code, 1);
  assert.match(stderr, /every sensor was ended by the hub.*401/);
  assert.match(stdout, /ended by hub 401×2/);
  assert.is(hub.connections.items.length, 2, 'no reconnect after 401');
});

test.run();
