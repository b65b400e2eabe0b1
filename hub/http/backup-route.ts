/**
 * `POST /api/v1/backup` (docs/API.md "Backup", docs/ADMIN.md "Backup and restore"), for admins:
 * the store copies every table from one snapshot into a spool file in the data folder
 * (hub/store/backup-sql.ts), which is then streamed as the answer and removed. Ingest goes on
 * meanwhile. One backup at a time: a second is refused 429, since each costs a copy of the store
 * on disk. Every call, refused or done, goes into the activity log.
 */
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActivityLog } from '../access/activity-log.ts';
import { HubError } from '../hub-error.ts';
import type { BackupSummary } from '../store/backup-sql.ts';
import { StoreError, type HubStore } from '../store/hub-store.ts';
import { recordRequest } from './access-routes.ts';
import { statusOf } from './api-error.ts';
import { requireRole } from './auth.ts';

export const BACKUP_PATH = '/api/v1/backup';
/** The answer's header with what the backup holds (BackupSummary as JSON). */
export const BACKUP_SUMMARY_HEADER = 'roomwatch-backup';
/** A backup of a busy store takes seconds to minutes: try again after this. */
const RETRY_AFTER_S = 30;

export interface BackupRouteDeps {
  store: Pick<HubStore, 'backup'>;
  activity: ActivityLog;
  /** the data folder: the spool goes in DIR/tmp/backup */
  dataDir: string;
}

export function registerBackupRoute(app: FastifyInstance, deps: BackupRouteDeps): void {
  const spoolDir = join(deps.dataDir, 'tmp', 'backup');
  let running = false;
  let serial = 0;

  const record = (request: FastifyRequest, status: number, detail: string): void =>
    recordRequest(deps.activity, request, 'backup', '', status, detail);

  app.post(BACKUP_PATH, async (request, reply) => {
    let path: string | null = null;
    let owns = false;
    try {
      requireRole(request, 'admin', 'take a backup');
      if (running) {
        throw new HubError('backup_running', 'a backup is already being taken; one runs at a time', { retryAfterS: RETRY_AFTER_S });
      }
      running = owns = true;
      mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
      // Only one backup runs, and this hub holds the data folder: anything here is a dead hub's.
      for (const name of readdirSync(spoolDir)) rmSync(join(spoolDir, name), { force: true, recursive: true });
      path = join(spoolDir, `backup-${process.pid}-${++serial}.duckdb`);
      const taken = await deps.store.backup(path);
      const summary: BackupSummary = { ...taken, bytes: statSync(path).size };
      const spool = path;
      const file = createReadStream(spool);
      // Sent, or the client went away: either way the spool goes, and the next backup may run.
      reply.raw.once('close', () => {
        file.destroy();
        rmSync(spool, { force: true });
        running = false;
        const done = reply.raw.writableFinished;
        record(request, 200, done ? describe(summary) : `abandoned by the client before the end of ${summary.bytes} bytes`);
      });
      const stamp = new Date(summary.takenAt).toISOString().replaceAll(':', '-');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(summary.bytes))
        .header('content-disposition', `attachment; filename="roomwatch-backup-${stamp}.duckdb"`)
        .header(BACKUP_SUMMARY_HEADER, JSON.stringify(summary))
        .send(file);
    } catch (err) {
      if (owns) {
        if (path !== null) rmSync(path, { force: true });
        running = false;
      }
      // as the error handler answers it: a store that cannot write now (a full disk) is a 503
      const status = err instanceof HubError ? statusOf(err) : err instanceof StoreError && err.retryable ? 503 : 500;
      record(request, status, (err as Error).message);
      throw err;
    }
  });
}

function describe(s: BackupSummary): string {
  const readings = Object.hasOwn(s.tables, 'readings') ? s.tables.readings : 0;
  return `${s.bytes} bytes, schema ${s.schemaVersion}, ${Object.keys(s.tables).length} tables, ${readings} readings`;
}
