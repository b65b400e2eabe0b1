/**
 * After a batch's commit, the late rows PostgreSQL found new (late-rows.ts) go to every hub's
 * live subscribers on core NATS (LATE_ROWS_SUBJECT), as bundles of at most 5,000 rows, so a
 * message stays far under any max_payload. Core NATS is at most once: a writer killed between
 * its commit and this publish, or NATS unreachable then, leaves those readings stored but not
 * streamed live (docs/CLUSTER.md). Never twice: a redelivered batch has no new late rows.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { encodeBundle, sliceBundle } from '../cluster/bundle.ts';
import { LATE_ROWS_SUBJECT } from '../cluster/cluster-names.ts';
import type { LateRows } from './late-rows.ts';

/** rows per announcement: about 100 KB */
export const LATE_ROWS_PER_MESSAGE = 5_000;

/** Publishes `rows` (none: nothing); returns how many rows were handed to NATS. */
export function announceLateRows(nc: NatsConnection, writer: string, rows: LateRows, log: Pick<Logger, 'warn'>): number {
  const all = { ...rows, hub: writer };
  for (let at = 0; at < all.n; at += LATE_ROWS_PER_MESSAGE) {
    try {
      nc.publish(LATE_ROWS_SUBJECT, encodeBundle(sliceBundle(all, at, Math.min(all.n, at + LATE_ROWS_PER_MESSAGE), [])));
    } catch (err) {
      log.warn({ err, rows: all.n - at }, 'could not announce late readings to the hubs: they are stored, but not streamed live');
      return at;
    }
  }
  return all.n;
}
