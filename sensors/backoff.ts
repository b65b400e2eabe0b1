/**
 * Reconnect delays: exponential with full jitter (a uniform draw below the exponential
 * ceiling), so a fleet that lost its hub at one moment does not come back at one moment.
 */
import type { Random } from './random.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 250, maxMs: 30_000 });

/** The ceiling for the `attempt`-th consecutive failure (0 for the first): initialMs * 2^attempt, at most maxMs. */
export function backoffCeilingMs(attempt: number, backoff: BackoffOptions): number {
  // 2^30 already exceeds any sensible maxMs; capping the exponent keeps the product finite.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** The delay before reconnect attempt number `attempt + 1`, in [0, ceiling). */
export function backoffDelayMs(attempt: number, backoff: BackoffOptions, random: Random): number {
  return Math.floor(random() * backoffCeilingMs(attempt, backoff));
}

export function checkBackoff(backoff: BackoffOptions, name = 'backoff'): void {
  const { initialMs, maxMs } = backoff;
  if (!Number.isFinite(initialMs) || initialMs < 1)
    throw new RangeError(`${name}.initialMs must be a number of at least 1, got ${initialMs}`);
  if (!Number.isFinite(maxMs) || maxMs < initialMs)
    throw new RangeError(`${name}.maxMs must be a number of at least initialMs (${initialMs}), got ${maxMs}`);
}
