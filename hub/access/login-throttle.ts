/**
 * Failed logins, counted per user name and per address over a sliding window. Past the limit,
 * logins for that name or from that address are refused (429) without checking the password, so
 * guessing costs the guesser time, not the hub CPU.
 */
export interface ThrottleLimits {
  perUser: number;
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { perUser: 5, perAddress: 20, windowMs: 15 * 60_000 };

/** the most keys remembered: an attacker spraying names must not grow the hub's memory */
const MAX_KEYS = 50_000;

export class LoginThrottle {
  /** key -> failure times, oldest first */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_THROTTLE) {}

  /** ms until a login for this user from this address may be tried again; 0: now */
  retryAfterMs(user: string, address: string, now: number): number {
    return Math.max(this.wait(`u:${user}`, this.limits.perUser, now), this.wait(`a:${address}`, this.limits.perAddress, now));
  }

  failed(user: string, address: string, now: number): void {
    this.note(`u:${user}`, now);
    this.note(`a:${address}`, now);
  }

  succeeded(user: string): void {
    this.failures.delete(`u:${user}`);
  }

  private wait(key: string, limit: number, now: number): number {
    const times = this.prune(key, now);
    if (times.length < limit) return 0;
    return times[times.length - limit]! + this.limits.windowMs - now;
  }

  private note(key: string, now: number): void {
    const times = this.prune(key, now);
    times.push(now);
    this.failures.delete(key); // re-insert: the map's order is the age of last use
    this.failures.set(key, times);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  private prune(key: string, now: number): number[] {
    const times = this.failures.get(key) ?? [];
    while (times.length > 0 && times[0]! <= now - this.limits.windowMs) times.shift();
    return times;
  }
}
