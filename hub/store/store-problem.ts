/**
 * A store failure in an operator's words (docs/ADMIN.md "When the store cannot write"): what is
 * wrong, what the hub does meanwhile, and what to do, for health and /metrics. The store's own
 * message (DuckDB's, or the system call's) stays beside it for the details.
 */
import { Gauge, type Registry } from 'prom-client';

export type StoreCause = 'disk_full' | 'read_only' | 'out_of_memory' | 'io_error' | 'store_gone' | 'other';

export interface StoreProblemWords {
  cause: StoreCause;
  /** what is wrong */
  problem: string;
  /** what to do */
  action: string;
}

const CAUSES: [RegExp, StoreProblemWords][] = [
  [
    /No space left|ENOSPC|disk is full|quota exceeded|EDQUOT/i,
    {
      cause: 'disk_full',
      problem: 'the disk holding the data folder is full: new readings cannot be written',
      action: 'free space on that disk (or grow it); the hub retries by itself and commits again once there is room',
    },
  ],
  [
    /read-only|EROFS/i,
    {
      cause: 'read_only',
      problem: 'the data folder is on a file system mounted read-only',
      action: 'remount it read-write (check the disk first: a kernel remounts read-only after errors); the hub retries by itself',
    },
  ],
  [
    /Out of Memory/i,
    {
      cause: 'out_of_memory',
      problem: 'the store ran out of its memory limit while committing',
      action: 'raise --memory-limit, or lower the load; the hub retries by itself',
    },
  ],
  [
    /IO Error|EIO\b|I\/O/i,
    {
      cause: 'io_error',
      problem: 'writing to the data folder failed',
      action: "check the disk and the system log (dmesg) for the device's errors; the hub retries by itself",
    },
  ],
  [
    /worker exited|store closed|invalidated/i,
    {
      cause: 'store_gone',
      problem: 'the store stopped',
      action: 'restart the hub; what was not acknowledged is not stored, and sensors resend it',
    },
  ],
];

export function describeStoreProblem(reason: string): StoreProblemWords {
  for (const [pattern, words] of CAUSES) if (pattern.test(reason)) return words;
  return { cause: 'other', problem: 'commits to the store fail', action: 'see store_error and the hub log; the hub retries by itself' };
}

/** What is failing now, as GroupCommit's storeProblem says it; null while commits succeed. */
export interface StoreProblemNow {
  reason: string;
  sinceMs: number;
  unavailable: boolean;
}

/** The store's part of GET /api/v1/health while commits fail: the words, and what sensors and readers get. */
export function storeProblemHealth(p: StoreProblemNow): Record<string, unknown> {
  return {
    store_problem: {
      ...describeStoreProblem(p.reason),
      sensors: p.unavailable
        ? 'turned away with 503; nothing after their last ack is stored, and they resend it once the store commits again'
        : 'held: their readings wait, unacknowledged, while the commit is retried',
      reads: 'working: latest, history and the live stream answer from what is stored',
    },
  };
}

/** /metrics: whether commits fail, why, for how long, and whether sensors are turned away. */
export function addStoreProblemFamilies(registry: Registry, read: () => StoreProblemNow | null, now: () => number): void {
  new Gauge({
    name: 'roomwatch_store_failing',
    help: 'Whether commits to the store fail now (1), by cause: disk_full, read_only, out_of_memory, io_error, store_gone, other.',
    labelNames: ['cause'],
    registers: [registry],
    collect() {
      this.reset();
      const p = read();
      for (const words of CAUSES) this.set({ cause: words[1].cause }, 0);
      this.set({ cause: 'other' }, 0);
      if (p) this.set({ cause: describeStoreProblem(p.reason).cause }, 1);
    },
  });
  new Gauge({
    name: 'roomwatch_store_failing_seconds',
    help: 'How long commits have been failing (0 while they succeed).',
    registers: [registry],
    collect() {
      const p = read();
      this.set(p ? Math.max(0, now() - p.sinceMs) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'roomwatch_store_unavailable',
    help: 'Whether sensors are turned away with 503 because the store cannot commit (1).',
    registers: [registry],
    collect() {
      this.set(read()?.unavailable ? 1 : 0);
    },
  });
}
