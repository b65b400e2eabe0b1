/**
 * What a simulator run tells the person who started it, beyond the summary line: why nothing
 * connects (connection refused, to where), and, at the end, whether readings were lost. A run
 * that lost readings (never acknowledged, dropped from a full buffer, refused by the hub), or
 * that had a --duration and never connected, exits 1: a script that starts the simulator must
 * not read success into a run that stored nothing.
 */
import type { FleetStats } from './fleet.ts';

const count = new Intl.NumberFormat('en-US');

/** by errno code: the reasons people know */
const REASONS: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused: nothing listens there (is the hub running? npm start)'],
  ['ENOTFOUND', 'unknown host'],
  ['EAI_AGAIN', 'the host name could not be resolved now'],
  ['ETIMEDOUT', 'timed out'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ECONNRESET', 'the connection was reset'],
]);

/** Why connecting failed, for people: from a socket error's message, such as "connect ECONNREFUSED 127.0.0.1:7777". */
export function connectFailure(lastError: string | null, host: string, port: number): string {
  const code = lastError === null ? undefined : /\b(E[A-Z_]+)\b/.exec(lastError)?.[1];
  const reason = (code !== undefined ? REASONS.get(code) : undefined) ?? lastError ?? 'no reason given';
  return `cannot connect to the hub at ${host}:${port}: ${reason}`;
}

/** Readings that were not stored, as far as the simulator knows: unacknowledged at the end, dropped, or refused. */
export function lostReadings(s: FleetStats): number {
  return s.bufferedReadings + s.droppedReadings + s.rejectedReadings;
}

export interface RunFacts {
  stats: FleetStats;
  /** Some sensor got a welcome at some point of the run. */
  everConnected: boolean;
  /** The run had a --duration. */
  limited: boolean;
  /** Why nothing connects was said on stderr already (connection refused, a TLS failure): not said twice. */
  reasonSaid: boolean;
  host: string;
  port: number;
}

/** The exit code of a run that ended as asked (time up, or a signal), and what to say on stderr for a 1. */
export function runVerdict(f: RunFacts): { code: 0 | 1; message?: string } {
  const lost = lostReadings(f.stats);
  const why = f.everConnected
    ? ''
    : f.reasonSaid
      ? ' (no sensor ever connected: see why above)'
      : ` (${connectFailure(f.stats.lastError, f.host, f.port)})`;
  if (lost > 0) {
    const parts = [
      f.stats.bufferedReadings > 0 && `${count.format(f.stats.bufferedReadings)} not acknowledged by the hub`,
      f.stats.droppedReadings > 0 && `${count.format(f.stats.droppedReadings)} dropped when the buffer was full`,
      f.stats.rejectedReadings > 0 && `${count.format(f.stats.rejectedReadings)} refused by the hub`,
    ].filter(Boolean);
    return { code: 1, message: `${count.format(lost)} readings were not stored: ${parts.join(', ')}${why}` };
  }
  if (!f.everConnected && f.limited) {
    return { code: 1, message: f.reasonSaid ? 'no sensor ever connected: see why above' : `no sensor ever connected${why}` };
  }
  return { code: 0 };
}
