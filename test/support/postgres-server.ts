/**
 * A real PostgreSQL (15, Debian's package) for the cluster tests, the demo and the bench:
 * initdb in a temp folder owned by the `postgres` user (PostgreSQL refuses to run as root),
 * started with pg_ctl on a free loopback port with its socket in that folder, trust auth.
 * `pause()` stops the server and every backend with SIGSTOP (a hung database, not a dead one);
 * `resume()` continues them. `stop()` is `pg_ctl stop -m fast`; the folder goes with the scope.
 * Skips (a `[skip] ` line with the install command) when PostgreSQL is missing.
 *
 *   if (!postgresInstalled('cluster history')) return;
 *   const pg = await startPostgres();
 *   // hub: --history pg.url
 *   const [{ n }] = await pg.query<{ n: string }>('select count(*) as n from readings');
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../scripts/bench/free-port.ts';
import { tempDataDir } from './hub-process.ts';
import { reapWhenOrphaned } from './orphan-reaper.ts';
import { perTest, type Teardown } from './teardown.ts';

const run = promisify(execFile);

export const POSTGRES_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends postgresql';
const PG_ROOT = '/usr/lib/postgresql';

/** The bin folder of PostgreSQL 15 if installed, else of the newest version installed, or undefined. */
export function postgresBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  const pick = versions.includes('15') ? '15' : versions[0];
  return pick === undefined ? undefined : join(PG_ROOT, pick, 'bin');
}

/** Whether PostgreSQL is here; prints the `[skip] ` line for `what` when not. */
export function postgresInstalled(what: string): boolean {
  if (postgresBin() !== undefined) return true;
  process.stdout.write(`[skip] ${what}: PostgreSQL (initdb, pg_ctl) is missing; install it with: ${POSTGRES_INSTALL}\n`);
  return false;
}

export interface PostgresServer {
  dir: string;
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres, for `--history` */
  url: string;
  /** One query on a connection of its own. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** SIGSTOP to the postmaster and each of its processes: connections stay open, nothing answers. */
  pause(): Promise<void>;
  /** SIGCONT to what pause() stopped. */
  resume(): Promise<void>;
  /** The postmaster's process id and its children's (backends, writer, checkpointer...), while it runs. */
  pids(): number[];
  /** The server's own log (its file in the folder). */
  log(): string;
  /** `pg_ctl stop -m fast` (resumes a paused server first); safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_S = 60;

export async function startPostgres(options: { scope?: Teardown } = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error(`PostgreSQL is missing; install it with: ${POSTGRES_INSTALL}`);
  const scope = options.scope ?? perTest;
  const dir = (await tempDataDir(scope)).path;
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  // the postmaster (data/postmaster.pid) is killed and the folder removed if this process dies first
  reapWhenOrphaned(dir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  // As root, every PostgreSQL program runs as the postgres user through runuser.
  const pgRun = (tool: string, args: string[], timeoutS = START_TIMEOUT_S + 10) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeout: timeoutS * 1000 })
      : run(join(bin, tool), args, { timeout: timeoutS * 1000 });

  await pgRun('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--encoding=UTF8', '--locale=C']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
  let running = false;
  let paused: number[] = [];
  let stopping: Promise<void> | undefined;

  const postmasterPid = (): number => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const server: PostgresServer = {
    dir,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    query: async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 10_000 });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    pause: async () => {
      if (paused.length > 0) return;
      const postmaster = postmasterPid();
      // The postmaster first, so it forks no new backend while its children are being stopped.
      paused = [postmaster, ...childrenOf(postmaster)];
      for (const pid of paused) signal(pid, 'SIGSTOP');
    },
    resume: async () => {
      const was = paused;
      paused = [];
      for (const pid of was.reverse()) signal(pid, 'SIGCONT');
    },
    pids: () => {
      const postmaster = postmasterPid();
      return [postmaster, ...childrenOf(postmaster)];
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop: () =>
      (stopping ??= (async () => {
        if (!running) return;
        await server.resume();
        await pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], 40);
        running = false;
      })()),
  };
  scope.add(`postgres on ${port}`, () => server.stop());
  await pgRun('pg_ctl', ['-D', data, '-o', serverOptions, '-l', logFile, '-w', '-t', String(START_TIMEOUT_S), 'start']).catch(
    (err: Error) => {
      throw new Error(`PostgreSQL did not start: ${err.message}\n${server.log().slice(-2000)}`);
    },
  );
  running = true;
  return server;
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error(`there is no postgres user; the postgresql package makes it: ${POSTGRES_INSTALL}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The process ids whose parent is `pid` (Linux /proc): PostgreSQL's backends each have a session of their own. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command may hold spaces and parentheses: the fields after its last ')' are fixed
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
