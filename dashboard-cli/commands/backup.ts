/**
 * `backup --out FILE`: a consistent copy of a running hub (`POST /api/v1/backup`, admins), every
 * table from one snapshot, while sensors keep sending (docs/ADMIN.md "Backup and restore"). The
 * file is written under a temporary name beside FILE and renamed once complete and of the size
 * the hub announced, so a failed download never leaves half a backup under the name asked for.
 * Restore it with `npm start -- --restore FILE --data EMPTY_DIR`.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandSpec } from '../command.ts';
import { describeFsError } from '../describe-error.ts';
import { ExitCode, HubBadAnswer, LocalFileError, UsageError } from '../errors.ts';
import { formatClock } from '../format.ts';
import { ProgressLine, formatBytes, formatCount, formatRate } from '../progress.ts';
import { fileDestination } from './history.ts';

export const BACKUP_PATH = '/api/v1/backup';
const SUMMARY_HEADER = 'roomwatch-backup';

/** What the hub says the backup holds (its summary header). */
export interface BackupSummary {
  schemaVersion: number;
  takenAt: number;
  /** by table name: rows */
  tables: Record<string, number>;
  bytes: number;
}

function readSummary(header: string | string[] | undefined, hub: string): BackupSummary {
  try {
    const s = JSON.parse(String(header)) as Partial<BackupSummary>;
    const tables = s.tables;
    if (
      typeof s.schemaVersion === 'number' &&
      typeof s.takenAt === 'number' &&
      typeof s.bytes === 'number' &&
      typeof tables === 'object' &&
      tables !== null &&
      Object.values(tables).every((n) => typeof n === 'number')
    )
      return s as BackupSummary;
  } catch {
    // described below
  }
  throw new HubBadAnswer(hub, `the hub's answer to POST ${BACKUP_PATH} has no valid ${SUMMARY_HEADER} header: is it a Roomwatch hub?`);
}

export const backupCommand: CommandSpec = {
  name: 'backup',
  summary: 'a consistent copy of the running hub (admins), to restore with npm start -- --restore FILE',
  filterFlags: false,
  details: [
    'Every table (readings, series, sensors, users, tokens, activity, alerts...) from one snapshot, while',
    'sensors keep sending. The hub copies its store first, then sends it: on a big store give --timeout',
    'room for the copy. FILE appears only once complete. --json prints what the backup holds.',
  ],
  options: {
    out: { type: 'string', valueName: 'FILE', help: 'write the backup to FILE (required); replaced only when complete' },
  },
  async run(ctx) {
    const out = ctx.options.out;
    if (typeof out !== 'string' || out === '' || out === '-') throw new UsageError('backup needs --out FILE: a backup is a file, not text');
    const destination = await fileDestination(out);
    const progress = new ProgressLine({ write: (text) => ctx.stderr.write(text), isTTY: ctx.stderr.isTTY });
    let done = false;
    try {
      const started = performance.now();
      progress.update(() => 'backup: the hub is copying its store');
      const answer = await ctx.hub.stream({ method: 'POST', path: BACKUP_PATH, headers: { accept: 'application/octet-stream' } });
      const summary = readSummary(answer.headers[SUMMARY_HEADER], ctx.hub.displayUrl);
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, next) {
          bytes += chunk.length;
          progress.update(
            () => `backup: ${formatBytes(bytes)} of ${formatBytes(summary.bytes)}, ${formatRate(bytes, performance.now() - started)}`,
          );
          next(null, chunk);
        },
      });
      try {
        await pipeline(answer.body, counter, destination.stream);
      } catch (error) {
        const failure = destination.failure();
        if (failure) throw new LocalFileError(`cannot write "${out}": ${describeFsError(failure)}`);
        throw answer.explain(error);
      }
      if (bytes !== summary.bytes) {
        throw new HubBadAnswer(
          ctx.hub.displayUrl,
          `the backup ended after ${bytes} of the ${summary.bytes} bytes the hub announced; nothing was written`,
        );
      }
      await destination.commit();
      done = true;
      progress.finish();
      if (ctx.json) ctx.stdout.write(JSON.stringify({ file: out, ...summary }) + '\n');
      else ctx.stdout.write(describeBackup(out, summary));
    } finally {
      if (!done) {
        progress.finish();
        await destination.discard();
      }
    }
    return ExitCode.Done;
  },
};

function describeBackup(file: string, s: BackupSummary): string {
  const names = Object.keys(s.tables).sort();
  const width = Math.max(...names.map((n) => n.length), 5);
  const rows = names.map((n) => `  ${n.padEnd(width)} ${formatCount(s.tables[n] ?? 0).padStart(12)}`);
  return [
    `wrote ${file}: ${formatBytes(s.bytes)}, schema ${s.schemaVersion}, snapshot at ${formatClock(s.takenAt)}`,
    `  ${'table'.padEnd(width)} ${'rows'.padStart(12)}`,
    ...rows,
    '',
  ].join('\n');
}
