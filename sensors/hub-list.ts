/**
 * The hubs a sensor may talk to: `--host a,b,c` (each `host`, `host:port` or `[v6]:port`; a
 * host without a port takes --port). A sensor starts on one of them and, when it loses its hub
 * (or cannot reach it), moves to the next at once, resending what was not acked; only after
 * every hub of the list failed in a row does it wait, with the usual backoff. Several hubs of
 * a cluster take any sensor, and a reading stored twice by moving is stored once (the key).
 */
import net from 'node:net';

export interface HubAddress {
  host: string;
  port: number;
}

/** Parses a host list; throws with a message naming the bad item. */
export function parseHubList(value: string, defaultPort: number): HubAddress[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new Error(`must be a host, or a comma-separated list of hosts (host or host:port), got "${value}"`);
  }
  return items.map((item) => {
    if (/\s/.test(item)) throw new Error(`"${item}" is not a host name or address`);
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (bracketed) return { host: bracketed[1]!, port: port(item, bracketed[2], defaultPort) };
    // A bare IPv6 address has colons of its own and no port.
    if (net.isIPv6(item)) return { host: item, port: defaultPort };
    const at = item.lastIndexOf(':');
    if (at < 0) return { host: item, port: defaultPort };
    const host = item.slice(0, at);
    if (host === '' || host.includes(':'))
      throw new Error(`"${item}" is not host or host:port (write an IPv6 address with a port as [::1]:7777)`);
    return { host, port: port(item, item.slice(at + 1), defaultPort) };
  });
}

function port(item: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`"${item}": the port must be from 1 to 65535`);
  return n;
}

/** `a:7777` or `a:7777, b:7778`: for messages. */
export function hubListText(hubs: readonly HubAddress[]): string {
  return hubs.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(', ');
}

/**
 * The delay before the next connection attempt after `failures` failed in a row (0: the
 * connection that closed had worked): none while hubs of the list are left to try in this
 * round, else the backoff of the round number.
 */
export function nextAttemptDelay(failures: number, hubs: number, backoff: (round: number) => number): number {
  if (hubs > 1 && failures % hubs !== hubs - 1) return 0;
  return backoff(Math.floor(failures / hubs));
}
