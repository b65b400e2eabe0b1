/**
 * The simulator's command line (`npm run sensors -- ...`): flags, their environment
 * variables and their checks. Pure: argv and env in, options or a usage error out, so the
 * rules are tested without starting a process.
 */
import { parseArgs } from 'node:util';
import { isRoom, isSensorId } from '../protocol/names.ts';
import { DEFAULT_ROOMS, fleetDefaults, fleetSensorIds } from './fleet.ts';
import { parseHubList, type HubAddress } from './hub-list.ts';

export interface SensorCliOptions {
  count: number;
  /** the first hub of `hubs` */
  host: string;
  port: number;
  /** --host a,b,c: the hubs sensors try in turn (one entry for a single hub) */
  hubs: HubAddress[];
  intervalMs: number;
  rooms: string[];
  idPrefix: string;
  seed: number;
  /** Stop after this long; null runs until SIGINT/SIGTERM. */
  durationMs: number | null;
  token: string | undefined;
  maxUnackedMessages: number;
  /** Connect with TLS; on with --tls, ROOMWATCH_TLS=1, or a CA file. */
  tls: boolean;
  /** PEM file of the CA to trust instead of Node's default store; read by main.ts. */
  caFile: string | null;
}

export type CliParse = { kind: 'run'; options: SensorCliOptions } | { kind: 'help' } | { kind: 'usage-error'; message: string };

export const MAX_COUNT = 100_000;

export const usage = `Usage: npm run sensors -- [options]

Runs simulated room sensors (temperature, humidity, cpu_load) against a Roomwatch hub.

Options (each also read from the environment variable shown):
  --count N          sensors to run, 1 to ${MAX_COUNT.toLocaleString('en-US')} (ROOMWATCH_SENSOR_COUNT; default 10)
  --host H[,H2...]   hub host, or a cluster's hubs as host or host:port (ROOMWATCH_HOST; default 127.0.0.1):
                     sensors start spread over them and move to the next when they lose theirs
  --port P           hub sensor port, 1 to 65535, for hosts given without one (ROOMWATCH_TCP_PORT; default 7777)
  --interval MS      ms between readings of each sensor, 10 to 86400000 (ROOMWATCH_SENSOR_INTERVAL_MS; default 1000)
  --rooms a,b        rooms, assigned round-robin (ROOMWATCH_SENSOR_ROOMS; default ${DEFAULT_ROOMS.join(',')})
  --prefix P         sensor ids are P-001, P-002, ... (ROOMWATCH_SENSOR_PREFIX; default ${fleetDefaults.idPrefix})
  --seed N           random seed, 0 to 4294967295; the same seed gives the same readings (ROOMWATCH_SENSOR_SEED; default ${fleetDefaults.seed})
  --token T          token sent in hello, for hubs that require one (ROOMWATCH_SENSOR_TOKEN)
  --tls              connect with TLS; the hub's certificate is verified for the --host name (ROOMWATCH_TLS=1)
  --ca FILE          trust the CA certificate(s) in this PEM file instead of Node's default store; implies --tls (ROOMWATCH_CA)
  --max-unacked N    unacknowledged messages kept per sensor, oldest dropped beyond (ROOMWATCH_SENSOR_MAX_UNACKED; default 10000)
  --duration S       stop after S seconds (default: run until Ctrl-C)
  -h, --help         show this help

Stops cleanly on SIGINT/SIGTERM (bye, final acks) and exits 0; a second signal exits at once with 1.
Exit codes: 0 done, 1 every sensor was refused by the hub, 2 bad usage.`;

type Env = Readonly<Record<string, string | undefined>>;

class UsageError extends Error {}

/** A value from the flag, else the environment variable, with the name to blame if it is bad. */
function pick(flag: string, flagValue: string | undefined, envName: string, env: Env): { value: string; name: string } | undefined {
  if (flagValue !== undefined) return { value: flagValue, name: `--${flag}` };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, name: envName };
  return undefined;
}

function integer(source: { value: string; name: string } | undefined, fallback: number, min: number, max: number): number {
  if (source === undefined) return fallback;
  const n = /^\d+$/.test(source.value.trim()) ? Number(source.value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${source.name} must be a whole number from ${min} to ${max}, got "${source.value}"`);
  }
  return n;
}

/** An on/off environment variable: 1/true/yes/on or 0/false/no/off (empty: off). */
function flagFromEnv(name: string, env: Env): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  throw new UsageError(`${name} must be 1 or 0 (or true/false, yes/no, on/off), got "${env[name]}"`);
}

export function parseSensorCli(argv: readonly string[], env: Env): CliParse {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        interval: { type: 'string' },
        rooms: { type: 'string' },
        prefix: { type: 'string' },
        seed: { type: 'string' },
        token: { type: 'string' },
        tls: { type: 'boolean' },
        ca: { type: 'string' },
        'max-unacked': { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'usage-error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };

  try {
    const count = integer(pick('count', values.count, 'ROOMWATCH_SENSOR_COUNT', env), 10, 1, MAX_COUNT);
    const port = integer(pick('port', values.port, 'ROOMWATCH_TCP_PORT', env), 7777, 1, 65_535);
    const intervalMs = integer(pick('interval', values.interval, 'ROOMWATCH_SENSOR_INTERVAL_MS', env), 1000, 10, 86_400_000);
    const seed = integer(pick('seed', values.seed, 'ROOMWATCH_SENSOR_SEED', env), fleetDefaults.seed, 0, 4_294_967_295);
    const maxUnackedMessages = integer(
      pick('max-unacked', values['max-unacked'], 'ROOMWATCH_SENSOR_MAX_UNACKED', env),
      10_000,
      1,
      10_000_000,
    );

    const hostSource = pick('host', values.host, 'ROOMWATCH_HOST', env);
    let hubs: HubAddress[];
    try {
      hubs = parseHubList(hostSource?.value.trim() ?? '127.0.0.1', port);
    } catch (err) {
      throw new UsageError(`${hostSource?.name ?? '--host'} ${(err as Error).message}`);
    }
    const { host } = hubs[0]!;

    const roomsSource = pick('rooms', values.rooms, 'ROOMWATCH_SENSOR_ROOMS', env);
    const rooms = roomsSource === undefined ? [...DEFAULT_ROOMS] : roomsSource.value.split(',').map((r) => r.trim());
    const badRoom = rooms.find((r) => !isRoom(r));
    if (roomsSource !== undefined && (rooms.length === 0 || badRoom !== undefined)) {
      throw new UsageError(
        `${roomsSource.name} must be a comma-separated list of rooms, each 1 to 64 characters of letters, digits, ".", "_", ":" or "-" (not starting with a symbol); got "${badRoom ?? roomsSource.value}"`,
      );
    }

    const prefixSource = pick('prefix', values.prefix, 'ROOMWATCH_SENSOR_PREFIX', env);
    const idPrefix = prefixSource?.value ?? fleetDefaults.idPrefix;
    const longestId: string = fleetSensorIds(count, idPrefix).at(-1) ?? '';
    // Kept as a string: after the failed type guard it would read as never in the message.
    const shown = longestId;
    if (!isSensorId(longestId)) {
      throw new UsageError(
        `${prefixSource?.name ?? '--prefix'} must make valid sensor ids (letters, digits, ".", "_", ":" or "-", starting with a letter or digit, at most 64 characters); "${shown}" is not`,
      );
    }

    let durationMs: number | null = null;
    if (values.duration !== undefined) {
      const s = Number(values.duration);
      if (values.duration.trim() === '' || !Number.isFinite(s) || s <= 0 || s > 31_536_000) {
        throw new UsageError(`--duration must be a number of seconds above 0 (at most a year), got "${values.duration}"`);
      }
      durationMs = Math.round(s * 1000);
    }

    const tokenSource = pick('token', values.token, 'ROOMWATCH_SENSOR_TOKEN', env);
    const caSource = pick('ca', values.ca, 'ROOMWATCH_CA', env);
    if (caSource !== undefined && caSource.value.trim() === '')
      throw new UsageError(`${caSource.name} must name a PEM file of CA certificates`);
    const caFile = caSource?.value ?? null;
    // A CA only makes sense with TLS, so giving one turns TLS on.
    const tls = values.tls === true || flagFromEnv('ROOMWATCH_TLS', env) || caFile !== null;
    return {
      kind: 'run',
      options: {
        count,
        host,
        port: hubs[0]!.port,
        hubs,
        intervalMs,
        rooms,
        idPrefix,
        seed,
        durationMs,
        token: tokenSource?.value,
        maxUnackedMessages,
        tls,
        caFile,
      },
    };
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'usage-error', message: err.message };
    throw err;
  }
}
