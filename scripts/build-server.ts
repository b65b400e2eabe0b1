/**
 * Builds the hub, the CLI and the sensor simulator into plain JavaScript in .build/server/, so
 * an installed hub runs without compiling TypeScript at start:
 *
 *   hub.js           hub/main.ts             (bin roomwatch-hub, npm start)
 *   store-worker.js  hub/store/store-worker.ts, the store's worker thread (reading-store.ts starts it)
 *   roomwatch.js     dashboard-cli/main.ts   (bin roomwatch)
 *   sensors.js       sensors/main.ts         (bin roomwatch-sensors)
 *
 *   npm run build:server                      # also run by `npm install` / `npm ci` / `npm pack` (prepare)
 *   tsx scripts/build-server.ts --if-stale    # what `npm start` runs first: builds only when older than its sources
 *
 * Each is one ES module with our code bundled and every package left as an import, resolved
 * from node_modules at run time (DuckDB's native binding cannot be bundled, and pino starts its
 * transports by package name). Tests keep running the TypeScript through tsx.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaleness, moveIntoPlace, packageRoot } from './build-freshness.ts';

const ROOT = packageRoot(import.meta.url);
export const SERVER_BUILD_DIR = join(ROOT, '.build', 'server');

/** output name (without .js) -> source */
export const SERVER_ENTRIES: ReadonlyMap<string, string> = new Map([
  ['hub', 'hub/main.ts'],
  ['store-worker', 'hub/store/store-worker.ts'],
  ['roomwatch', 'dashboard-cli/main.ts'],
  ['sensors', 'sensors/main.ts'],
]);

/** What the bundles are made of (the folders their sources import from) and how. */
const INPUTS = [
  'hub',
  'protocol',
  'dashboard-cli',
  'sensors',
  'scripts/build-server.ts',
  'scripts/build-web.ts',
  'scripts/build-freshness.ts',
  'package-lock.json',
].map((p) => join(ROOT, p));

/** Why the build in `dir` must be made again, or null when it is up to date (the same rule as the dashboard's). */
export function serverBuildStaleness(dir: string = SERVER_BUILD_DIR): string | null {
  return buildStaleness(join(dir, 'hub.js'), INPUTS);
}

export interface ServerBuild {
  dir: string;
  files: string[];
  ms: number;
}

/** Builds into `dir` (replacing what is there, in one move) and says what it wrote. */
export async function buildServer(dir: string = SERVER_BUILD_DIR): Promise<ServerBuild> {
  const started = performance.now();
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const result = await build({
      entryPoints: Object.fromEntries([...SERVER_ENTRIES].map(([out, src]) => [out, join(ROOT, src)])),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir: staging,
      absWorkingDir: ROOT,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
    });
    const outside = Object.keys(result.metafile.inputs).filter((f) => !INPUTS.some((i) => join(ROOT, f).startsWith(i)));
    if (outside.length > 0)
      throw new Error(
        `the server imports files its staleness check does not watch: ${outside.join(', ')}; add them to INPUTS in scripts/build-server.ts`,
      );
    await moveIntoPlace(staging, dir);
    return {
      dir,
      files: Object.keys(result.metafile.outputs).map((f) => relative(staging, join(ROOT, f))),
      ms: performance.now() - started,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Builds when the build is missing or stale; answers whether it built. */
export async function ensureServerBuild(dir: string = SERVER_BUILD_DIR): Promise<ServerBuild | null> {
  return serverBuildStaleness(dir) === null ? null : buildServer(dir);
}

async function main(): Promise<void> {
  const built = process.argv.includes('--if-stale') ? await ensureServerBuild() : await buildServer();
  // stderr: `npm start` runs this before the hub, whose stdout is its log
  if (built) process.stderr.write(`server built in ${Math.round(built.ms)} ms: ${built.files.join(', ')} in ${built.dir}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    process.stderr.write(`the server did not build: ${err.message}\n`);
    process.exitCode = 1;
  });
}
