/**
 * The hub's cluster flags: `--cluster nats://a,nats://b,...`, `--history postgres://...` (both
 * or neither) and `--hub-id NAME`. Checked with the other options at start; this file imports
 * nothing of NATS or PostgreSQL, so a single hub does not load them to check its options.
 */
import { HUB_ID_PATTERN } from './cluster-names.ts';

export interface ClusterOptions {
  /** NATS servers, comma-separated; null: a single hub with its own DuckDB store */
  cluster: string | null;
  /** PostgreSQL URL for history, users, rooms, tokens, activity and the registry */
  history: string | null;
  /** this hub's name in the cluster; null: `<hostname>-<tcpPort>-<4 hex>` */
  hubId: string | null;
}

export const defaultClusterOptions: ClusterOptions = { cluster: null, history: null, hubId: null };

/** The servers of a `--cluster` value: nats://a:4222,nats://b:4222 (a bare host:port gets nats://). */
export function parseServers(value: string): string[] {
  const servers = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new Error('--cluster needs at least one NATS server URL (nats://host:port,...)');
  return servers.map((s) => {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `nats://${s}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--cluster: "${s}" is not a NATS server URL (nats://host:port)`);
    }
    if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
      throw new Error(`--cluster: "${s}" is not a NATS server URL: use nats://host:port (or tls://host:port)`);
    }
    return url;
  });
}

export function clusterOptionProblems(o: ClusterOptions): string[] {
  const problems: string[] = [];
  const given = (v: string | null): v is string => typeof v === 'string' && v.trim() !== '';
  if (given(o.cluster) && !given(o.history)) {
    problems.push(
      '--cluster needs --history postgres://USER@HOST:PORT/DATABASE: in cluster mode history, users and tokens live in PostgreSQL (docs/CLUSTER.md)',
    );
  }
  if (given(o.history) && !given(o.cluster)) {
    problems.push(
      '--history needs --cluster nats://HOST:PORT,...: PostgreSQL history is for cluster mode, whose commits go through NATS JetStream (docs/CLUSTER.md)',
    );
  }
  if (given(o.cluster)) {
    try {
      parseServers(o.cluster);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (o.hubId !== null && !HUB_ID_PATTERN.test(o.hubId)) {
    problems.push(`--hub-id must be 1 to 64 letters, digits, '-' or '_', got ${JSON.stringify(o.hubId)}`);
  }
  if (o.hubId !== null && !given(o.cluster)) problems.push('--hub-id names a hub in a cluster: give it with --cluster and --history');
  return problems;
}
