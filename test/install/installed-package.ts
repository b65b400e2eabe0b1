/**
 * The package as users get it: `npm pack` in the repository (which runs `prepare`, building the
 * dashboard and the server), the tarball installed into a temp folder with
 * `npm install --omit=dev`, and its bins run with `npx` from that folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, withTimeout } from '../support/hub-process.ts';
import type { Teardown } from '../support/teardown.ts';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** resolves when it ended and its output was read to the end */
  finished: Promise<Finished>;
  stdout(): string;
  stderr(): string;
  /** signals the whole process group: npx, and the bin it started */
  signal(sig: NodeJS.Signals): void;
}

/** The environment without what `npm test` sets for its own run (npm_config_*, npm_lifecycle_*), which would steer the inner npm. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', npm_config_update_notifier: 'false', ...extra };
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v;
  return env;
}

/** Starts `command args` in `cwd` as the leader of a process group of its own, killed with the group at teardown. */
export function run(command: string, args: readonly string[], cwd: string, scope: Teardown, env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(command, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let done = false;
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* the group is gone */
    }
  };
  scope.add(`${command} ${args.join(' ')}`, async () => {
    if (done) return;
    signal('SIGKILL');
    await finished;
  });
  return { child, finished, stdout: () => out, stderr: () => err, signal };
}

/** Runs to the end within `ms`; throws with its output if it fails or takes longer. */
export async function runToEnd(command: string, args: readonly string[], cwd: string, ms: number, scope: Teardown): Promise<Finished> {
  const p = run(command, args, cwd, scope);
  const what = `${command} ${args.join(' ')}`;
  const end = await withTimeout(p.finished, ms, what).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${p.stdout().slice(-2000)}\nstderr: ${p.stderr().slice(-2000)}`);
  });
  if (end.code !== 0)
    throw new Error(
      `${what} exited with ${end.code ?? end.signal}\nstdout: ${end.stdout.slice(-2000)}\nstderr: ${end.stderr.slice(-2000)}`,
    );
  return end;
}

/** Packs the repository into `dir` and answers the tarball's path. */
export async function pack(dir: string, scope: Teardown): Promise<string> {
  await runToEnd('npm', ['pack', '--pack-destination', dir], REPO_ROOT, 120_000, scope);
  const tarballs = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${dir}: ${tarballs.join(', ')}`);
  return join(dir, tarballs[0]!);
}

/**
 * Installs `tarball` into `dir`/app (a folder with a package.json of its own, so npm does not
 * look above it) as a deployment does: no dev dependencies. Packages come from npm's cache when
 * there, else from the registry (DuckDB's binary among them).
 */
export async function install(tarball: string, dir: string, scope: Teardown): Promise<string> {
  const app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), '{ "private": true }\n');
  await runToEnd('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], app, 150_000, scope);
  return app;
}
