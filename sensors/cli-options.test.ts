// The simulator's flags and environment variables (PROTOCOL.md §3 "Running it").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSensorCli, usage, type CliParse, type SensorCliOptions } from './cli-options.ts';

function run(argv: string[], env: Record<string, string> = {}): SensorCliOptions {
  const parsed = parseSensorCli(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  const parsed: CliParse = parseSensorCli(argv, env);
  if (parsed.kind !== 'usage-error') throw new Error(`expected a usage error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

test('with no flags: 10 sensors, 127.0.0.1:7777, one reading a second, the five default rooms', () => {
  assert.equal(run([]), {
    count: 10,
    host: '127.0.0.1',
    hubs: [{ host: '127.0.0.1', port: 7777 }],
    port: 7777,
    intervalMs: 1000,
    rooms: ['living-room', 'bedroom', 'kitchen', 'server-room', 'greenhouse'],
    idPrefix: 'sim',
    seed: 1,
    durationMs: null,
    token: undefined,
    maxUnackedMessages: 10_000,
    tls: false,
    caFile: null,
  });
});

test('every flag is read, and wins over its environment variable', () => {
  const env = { ROOMWATCH_HOST: 'hub.local', ROOMWATCH_TCP_PORT: '9000', ROOMWATCH_SENSOR_COUNT: '5' };
  assert.equal(
    run(
      [
        '--count',
        '50',
        '--host',
        '10.0.0.2',
        '--port',
        '7788',
        '--interval',
        '250',
        '--rooms',
        'a,b',
        '--prefix',
        'lab',
        '--seed',
        '9',
        '--duration',
        '1.5',
        '--token',
        't',
        '--max-unacked',
        '100',
        '--tls',
        '--ca',
        'hub-ca.crt',
      ],
      env,
    ),
    {
      count: 50,
      host: '10.0.0.2',
      hubs: [{ host: '10.0.0.2', port: 7788 }],
      port: 7788,
      intervalMs: 250,
      rooms: ['a', 'b'],
      idPrefix: 'lab',
      seed: 9,
      durationMs: 1500,
      token: 't',
      maxUnackedMessages: 100,
      tls: true,
      caFile: 'hub-ca.crt',
    },
  );
});

test('environment variables fill in flags that are not given', () => {
  const o = run([], {
    ROOMWATCH_HOST: 'hub.local',
    ROOMWATCH_TCP_PORT: '9000',
    ROOMWATCH_SENSOR_COUNT: '5',
    ROOMWATCH_SENSOR_INTERVAL_MS: '200',
    ROOMWATCH_SENSOR_ROOMS: 'attic',
    ROOMWATCH_SENSOR_PREFIX: 'env',
    ROOMWATCH_SENSOR_SEED: '3',
    ROOMWATCH_SENSOR_TOKEN: 'tok',
  });
  assert.equal(
    [o.host, o.port, o.count, o.intervalMs, o.rooms, o.idPrefix, o.seed, o.token],
    ['hub.local', 9000, 5, 200, ['attic'], 'env', 3, 'tok'],
  );
});

test('TLS: --tls or ROOMWATCH_TLS turns it on; a CA (--ca, else ROOMWATCH_CA) implies it [ADMIN.md TLS]', () => {
  assert.equal(pickTls(['--tls']), { tls: true, caFile: null });
  assert.equal(pickTls([], { ROOMWATCH_TLS: '1' }), { tls: true, caFile: null });
  assert.equal(pickTls([], { ROOMWATCH_TLS: 'yes' }), { tls: true, caFile: null });
  assert.equal(pickTls([], { ROOMWATCH_TLS: '0' }), { tls: false, caFile: null });
  assert.equal(pickTls([], { ROOMWATCH_TLS: '' }), { tls: false, caFile: null });
  assert.equal(pickTls(['--ca', 'a.crt']), { tls: true, caFile: 'a.crt' });
  assert.equal(pickTls([], { ROOMWATCH_CA: 'env.crt' }), { tls: true, caFile: 'env.crt' });
  assert.equal(pickTls(['--ca', 'flag.crt'], { ROOMWATCH_CA: 'env.crt' }), { tls: true, caFile: 'flag.crt' });
  assert.match(usageError([], { ROOMWATCH_TLS: 'maybe' }), /ROOMWATCH_TLS must be 1 or 0/);
  assert.match(usageError(['--ca', '']), /--ca must name a PEM file/);
  assert.match(usageError(['--ca']), /ca/);
  assert.match(usageError(['--tls=yes']), /tls/);
});

function pickTls(argv: string[], env: Record<string, string> = {}): { tls: boolean; caFile: string | null } {
  const { tls, caFile } = run(argv, env);
  return { tls, caFile };
}

test('a bad value names the flag (or variable) and what is allowed', () => {
  assert.match(usageError(['--count', '0']), /--count must be a whole number from 1 to 100000, got "0"/);
  assert.match(usageError(['--count', 'ten']), /--count/);
  assert.match(usageError(['--count', '1.5']), /--count/);
  assert.match(usageError(['--count', '100001']), /--count/);
  assert.match(usageError(['--port', '70000']), /--port must be a whole number from 1 to 65535/);
  assert.match(usageError(['--port', '0']), /--port/);
  assert.match(usageError(['--interval', '5']), /--interval must be a whole number from 10/);
  assert.match(usageError(['--rooms', 'kitchen,,attic']), /--rooms must be a comma-separated list/);
  assert.match(usageError(['--rooms', 'living room']), /--rooms.*"living room"/);
  assert.match(usageError(['--prefix=-bad']), /--prefix must make valid sensor ids/);
  assert.match(usageError(['--prefix', 'x'.repeat(62)]), /--prefix/);
  assert.match(usageError(['--seed', '-1']), /--seed/);
  assert.match(usageError(['--duration', '0']), /--duration must be a number of seconds above 0/);
  assert.match(usageError(['--duration', 'soon']), /--duration/);
  assert.match(usageError(['--host', '']), /--host/);
  assert.match(usageError([], { ROOMWATCH_TCP_PORT: 'http' }), /ROOMWATCH_TCP_PORT must be a whole number/);
});

test('unknown flags, stray arguments and flags without their value are usage errors', () => {
  assert.match(usageError(['--cuont', '5']), /cuont/);
  assert.match(usageError(['50']), /50/);
  assert.match(usageError(['--count']), /count/);
});

test('--help and -h ask for the usage text', () => {
  assert.equal(parseSensorCli(['--help'], {}), { kind: 'help' });
  assert.equal(parseSensorCli(['-h', '--count', 'nonsense'], {}), { kind: 'help' });
});

test('the usage text names the command, every flag with the variable that also sets it, and the exit codes', () => {
  assert.match(usage, /^Usage: npm run sensors -- \[options\]\n/);
  const flags: [string, string | null][] = [
    ['--count N', 'ROOMWATCH_SENSOR_COUNT'],
    ['--host H[,H2...]', 'ROOMWATCH_HOST'],
    ['--port P', 'ROOMWATCH_TCP_PORT'],
    ['--interval MS', 'ROOMWATCH_SENSOR_INTERVAL_MS'],
    ['--rooms a,b', 'ROOMWATCH_SENSOR_ROOMS'],
    ['--prefix P', 'ROOMWATCH_SENSOR_PREFIX'],
    ['--seed N', 'ROOMWATCH_SENSOR_SEED'],
    ['--token T', 'ROOMWATCH_SENSOR_TOKEN'],
    ['--tls', 'ROOMWATCH_TLS'],
    ['--ca FILE', 'ROOMWATCH_CA'],
    ['--max-unacked N', 'ROOMWATCH_SENSOR_MAX_UNACKED'],
    ['--duration S', null],
    ['-h, --help', null],
  ];
  for (const [flag, variable] of flags) {
    const line = usage.split('\n').find((l) => l.startsWith(`  ${flag} `));
    assert.ok(line, `a line for ${flag}`);
    if (variable !== null) assert.match(line, variable);
  }
  assert.match(usage, /\nExit codes: /);
});

test.run();
