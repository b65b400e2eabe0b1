/**
 * The header a history export carries when part of its range is older than what the store still
 * keeps (docs/API.md "Retention"): never a silently short answer.
 *
 * - `X-Roomwatch-Raw-Retained-From: <iso>` on an answer made of raw readings (no `every`, or an
 *   `every` no rollup tier divides) whose range begins before the raw readings kept;
 * - `X-Roomwatch-Rollup-Retained-From: <iso>` on a bucketed answer whose range begins before
 *   the buckets its tier still keeps.
 */
import type { RetentionStatus } from '../store/store-messages.ts';
import type { HistoryQuery } from './history-query.ts';

export function retainedHeaders(q: HistoryQuery, s: RetentionStatus | null | undefined): Record<string, string> {
  if (!s) return {};
  const before = (ms: number | null) => ms !== null && (q.fromMs === null || q.fromMs < ms);
  const tier = q.everyMs === null ? undefined : s.tiers.findLast((t) => q.everyMs! % t.widthMs === 0);
  if (!tier) return before(s.rawKeptFromMs) ? { 'x-roomwatch-raw-retained-from': new Date(s.rawKeptFromMs!).toISOString() } : {};
  return before(tier.keptFromMs) ? { 'x-roomwatch-rollup-retained-from': new Date(tier.keptFromMs!).toISOString() } : {};
}
