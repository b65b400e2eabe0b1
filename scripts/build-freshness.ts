/**
 * What the two builds (the dashboard, scripts/build-web.ts; the server, scripts/build-server.ts)
 * share: where the package's root is, when a build is older than its sources, and how a new
 * build replaces the old one without a reader ever seeing half of it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding package.json above the module at `moduleUrl`: the repository when run
 * from source (scripts/x.ts), and also when bundled (.build/server/hub.js) or installed
 * (node_modules/roomwatch/.build/server/hub.js), where a path relative to the module would not be.
 */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}: run Roomwatch from its package folder`);
    dir = up;
  }
  return dir;
}

/** The newest modification time (ms) of a file or of any file under a folder; 0 when missing. */
export function newestMtime(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file changes its folder's time
  for (const name of readdirSync(path)) {
    if (name === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/**
 * Why the build whose marker file is `output` must be made again, or null when it is up to
 * date: the marker is missing, or an input (file or folder) changed after it was written.
 * Missing inputs count as old, so an installed package, which ships builds but no sources,
 * never rebuilds.
 */
export function buildStaleness(output: string, inputs: readonly string[]): string | null {
  if (!existsSync(output)) return `${output} is missing`;
  const built = statSync(output).mtimeMs;
  return Math.max(0, ...inputs.map(newestMtime)) > built ? 'the sources changed since the last build' : null;
}

/** Replaces `dir` by `staging`. Another process that put its build there first wins: both are the same sources. */
export async function moveIntoPlace(staging: string, dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const old = `${dir}.old-${process.pid}-${Date.now()}`;
  try {
    await rename(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await rename(staging, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  } finally {
    await rm(old, { recursive: true, force: true });
  }
}
