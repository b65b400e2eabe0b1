/**
 * The login throttle (docs/ADMIN.md "Logging in"). It throttles the source, not the account, as
 * fail2ban does (bantime.increment) and as Mosquitto's login rate limiting does (per address):
 *
 * - an address (an IPv6 /64, which one subscriber usually holds whole) gets a few free failures,
 *   then waits before each further try, twice as long after each failure, up to a cap: past
 *   its wait it may try again, before it it gets 429 without a password check;
 * - an account with failures is only slowed: each try waits a little longer before its check,
 *   up to a few seconds. It is never refused, so no one can lock a user out by name, and the
 *   right password from a clean address always logs in.
 *
 * A try is counted when it starts, before the (slow, asynchronous) password check: parallel
 * guesses see each other and meet the limit together, not one by one after all were checked.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface ThrottleLimits {
  /** failures from one address before it has to wait */
  addressFree: number;
  /** the wait after the first failure past the free ones; doubled for each further one */
  addressBaseMs: number;
  /** the longest an address waits */
  addressMaxMs: number;
  /** failures for one account before its tries slow down */
  accountFree: number;
  /** the slowdown after the first failure past the free ones; doubled for each further one */
  accountBaseMs: number;
  /** the longest slowdown: a few seconds, never a lockout */
  accountMaxMs: number;
  /** failures are forgotten this long after the last one */
  forgetMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  addressFree: 10,
  addressBaseMs: 1_000,
  addressMaxMs: 15 * 60_000,
  accountFree: 5,
  accountBaseMs: 250,
  accountMaxMs: 4_000,
  forgetMs: 60 * 60_000,
};

/** the most addresses and the most account names remembered: spraying must not grow the hub's memory */
const MAX_KEYS = 50_000;

/** Failures of one address or account; a try under way counts as one until it ends. */
interface Tally {
  failures: number;
  /** when the last try was counted */
  lastMs: number;
}

/** A try that was let through: end it once the password is checked, whatever the outcome. */
export interface LoginAttempt {
  readonly source: string;
  readonly account: string;
  /** how long to wait before checking the password: the account's slowdown */
  readonly delayMs: number;
}

export type ThrottleVerdict = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfterMs: number };

export class LoginThrottle {
  /** by source (an IPv4 address, or an IPv6 /64) */
  private readonly sources = new Map<string, Tally>();
  /** by user name, known or not */
  private readonly accounts = new Map<string, Tally>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_THROTTLE) {}

  /** Counts a try before its password is checked, or refuses it (429) while its address must wait. */
  begin(user: string, address: string, now: number): ThrottleVerdict {
    const source = sourceOf(address);
    const s = this.current(this.sources, source, now);
    const l = this.limits;
    if (s && s.failures >= l.addressFree) {
      const waitMs = s.lastMs + backoff(s.failures - l.addressFree, l.addressBaseMs, l.addressMaxMs) - now;
      if (waitMs > 0) return { ok: false, retryAfterMs: waitMs };
    }
    const a = this.current(this.accounts, user, now);
    const delayMs = a && a.failures >= l.accountFree ? backoff(a.failures - l.accountFree, l.accountBaseMs, l.accountMaxMs) : 0;
    this.count(this.sources, source, now);
    this.count(this.accounts, user, now);
    return { ok: true, attempt: { source, account: user, delayMs } };
  }

  /**
   * The password was checked. A failure stays counted. A success takes back its own count from
   * the address (whose other failures stay: an account of one's own must not buy more guesses
   * for others) and clears the account.
   */
  end(attempt: LoginAttempt, good: boolean, now: number): void {
    if (!good) {
      const s = this.sources.get(attempt.source);
      if (s) s.lastMs = Math.max(s.lastMs, now); // the wait runs from the answer
      return;
    }
    const s = this.sources.get(attempt.source);
    if (s && --s.failures <= 0) this.sources.delete(attempt.source);
    this.accounts.delete(attempt.account);
  }

  /** The record, or undefined once forgotten. */
  private current(map: Map<string, Tally>, key: string, now: number): Tally | undefined {
    const r = map.get(key);
    if (r && now - r.lastMs >= this.limits.forgetMs) {
      map.delete(key);
      return undefined;
    }
    return r;
  }

  private count(map: Map<string, Tally>, key: string, now: number): void {
    const r = map.get(key) ?? { failures: 0, lastMs: now };
    r.failures++;
    r.lastMs = Math.max(r.lastMs, now);
    map.delete(key); // re-insert: the map's order is the age of last use
    map.set(key, r);
    if (map.size > MAX_KEYS) map.delete(map.keys().next().value!);
  }
}

function backoff(extra: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(extra, 40), maxMs);
}

/**
 * What one client holds: an IPv4 address, or the /64 of an IPv6 address (a subscriber usually
 * gets a whole /64, so counting single IPv6 addresses would give an attacker 2^64 fresh starts).
 * An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function sourceOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
