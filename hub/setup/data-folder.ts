/**
 * The data folder (docs/ADMIN.md "The data folder"): the database holds password and token
 * hashes, the activity log and every room's readings, so the folder and what the hub keeps in it
 * are for the hub's user alone (0700 folders, 0600 files), as PostgreSQL keeps its own. The hub
 * process sets umask 077 (hub/main.ts), so what it creates is private; this module makes the
 * folder private when the hub is started some other way (in-process tests), and tightens a folder
 * made by an older hub. It also fails at start, clearly, on a folder the hub cannot write.
 */
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DATABASE_FILE } from '../store/schema.ts';

export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** What the hub keeps in its data folder: the database (and its WAL), the default log and temp folders. */
function isHubEntry(name: string): boolean {
  return name.startsWith(DATABASE_FILE) || name === 'logs' || name === 'tmp';
}

const DATA_OPTION = 'or give the hub another folder with --data (ROOMWATCH_DATA)';

/** A data folder the hub cannot use; the message says which, why, and what to do. */
export class DataFolderError extends Error {}

/**
 * Creates `dir` (0700) if needed, or fails with a DataFolderError; `what` names it in the message.
 * Recursive mkdir reports ENOENT for a read-only file system: the reason is found here instead.
 */
export function makePrivateFolder(dir: string, what: string, otherwise = DATA_OPTION): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  } catch (err) {
    throw new DataFolderError(`${what} ${dir} cannot be created: ${whyNotWritable(dir, err as NodeJS.ErrnoException, otherwise)}`);
  }
}

/**
 * At start, before the store opens: the data folder exists, is private, and the hub can write
 * in it. Returns what it could not tighten (for a warning), or [].
 */
export function prepareDataFolder(dataDir: string): string[] {
  makePrivateFolder(dataDir, 'the data folder');
  const probe = join(dataDir, `.write-check-${process.pid}`);
  try {
    writeFileSync(probe, '', { mode: PRIVATE_FILE_MODE, flag: 'w' });
    rmSync(probe, { force: true });
  } catch (err) {
    throw new DataFolderError(`the data folder ${dataDir} is not writable: ${whyNotWritable(dataDir, err as NodeJS.ErrnoException)}`);
  }
  const skipped: string[] = [];
  tighten(dataDir, skipped, true);
  for (const name of readdirSync(dataDir)) if (isHubEntry(name)) tighten(join(dataDir, name), skipped, false);
  return skipped;
}

/** Takes group and other bits off `path` (and, for a hub folder, everything in it); never follows a link. */
function tighten(path: string, skipped: string[], topOnly: boolean): void {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info || info.isSymbolicLink()) return;
  // Never take a shared folder (such as /tmp, sticky) or someone else's file from them.
  const ours = process.getuid === undefined || info.uid === process.getuid();
  if ((info.mode & 0o077) !== 0) {
    if (!ours || (info.isDirectory() && (info.mode & 0o1000) !== 0)) skipped.push(`${path} (mode ${(info.mode & 0o7777).toString(8)})`);
    else chmodSync(path, info.mode & 0o7700);
  }
  if (topOnly || !info.isDirectory()) return;
  for (const name of readdirSync(path)) tighten(join(path, name), skipped, false);
}

/** Why `dir` cannot be written, and what to do about it. */
function whyNotWritable(dir: string, err: NodeJS.ErrnoException, fix = DATA_OPTION): string {
  // the nearest folder that exists: where the hub would have created the rest
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let code = err.code;
  if (code === 'ENOENT' || code === undefined) {
    try {
      accessSync(existing, constants.W_OK | constants.X_OK);
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code;
    }
  }
  const user = process.getuid ? `the hub's user (uid ${process.getuid()})` : "the hub's user";
  switch (code) {
    case 'EROFS':
      return `${existing} is on a read-only file system (EROFS): remount it read-write, ${fix}`;
    case 'EACCES':
    case 'EPERM':
      return `${user} may not write in ${existing} (${code}): give it write access (chown or chmod), ${fix}`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `${existing} is a file, not a folder (${code}): move it away, ${fix}`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left for ${user} on that disk (${code}): free some, ${fix}`;
    default:
      return `${err.message}: ${fix}`;
  }
}
