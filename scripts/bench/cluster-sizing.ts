/**
 * Sizing on paper for cluster mode, from the per-role costs the cluster bench measured: the
 * nodes for a fleet of 1M sensors at one reading per 10 s (100,000 readings/s), as Markdown.
 * Pure arithmetic, so the rule is visible and the numbers are the bench's.
 */

/** CPU seconds per million readings, by role (the nats-servers' cost is all three replicas'). */
export interface RoleCosts {
  hubs: number;
  nats: number;
  writer: number;
  postgres: number;
}

export const FLEET = { sensors: 1_000_000, readingEveryS: 10 };
/** a node as measured here: 2 cores; loaded to half, so it absorbs bursts and a failed peer's share */
export const NODE_CORES = 2;
export const TARGET_LOAD = 0.5;
/** the hub's default --max-sensor-connections, and a raised one */
const CONNECTIONS_DEFAULT = 20_000;
const CONNECTIONS_RAISED = 100_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * `hub`: a hub's CPU s per million readings, one reading per line (what a sensor reading every
 * 10 s sends): `ingest` of its own sensors' readings, `follow` of every reading of the cluster
 * (each hub follows all others' bundles). `costs`: the other roles, with batches (their cost per
 * reading does not depend on the framing).
 */
export function sizing(hub: { ingest: number; follow: number }, costs: RoleCosts, bytesPerReading: number): string {
  const rate = FLEET.sensors / FLEET.readingEveryS;
  const cores = (cpuPerMillion: number) => (rate * cpuPerMillion) / 1e6;
  const nodes = (c: number) => Math.max(1, Math.ceil(c / (NODE_CORES * TARGET_LOAD)));
  // Each hub follows the whole cluster's rate, whatever its own share: that part does not shrink with more hubs.
  const budget = NODE_CORES * TARGET_LOAD;
  const followCores = cores(hub.follow);
  const ingestCores = cores(hub.ingest);
  const hubsByCpu = followCores < budget ? Math.max(1, Math.ceil(ingestCores / (budget - followCores))) : Infinity;
  const hubsByConnDefault = Math.ceil(FLEET.sensors / CONNECTIONS_DEFAULT);
  const hubsByConnRaised = Math.ceil(FLEET.sensors / CONNECTIONS_RAISED);
  const natsCores = cores(costs.nats);
  // three replicas: each server does a third of the measured work (the leaders spread over partitions' stream, one stream here)
  const natsPerServer = natsCores / 3;
  const writerCores = cores(costs.writer);
  const pgCores = cores(costs.postgres);
  const perDayGb = (rate * 86_400 * bytesPerReading) / 1e9;
  const rows = [
    `| role | cost measured here (CPU s per million readings) | cores at ${fmt(rate)} readings/s | nodes of ${NODE_CORES} cores at ${TARGET_LOAD * 100}% |`,
    '|---|---|---|---|',
    `| hubs | ingest ${hub.ingest.toFixed(2)} of its own sensors' readings + follow ${hub.follow.toFixed(2)} of all the cluster's (one reading per line) | ${ingestCores.toFixed(2)} ingest in all + ${followCores.toFixed(2)} follow on each hub | ${Number.isFinite(hubsByCpu) ? `${hubsByCpu} by CPU` : `none by CPU: following alone needs ${followCores.toFixed(1)} cores a hub`}; by connections ${hubsByConnDefault} at the default ${fmt(CONNECTIONS_DEFAULT)} per hub, ${hubsByConnRaised} at ${fmt(CONNECTIONS_RAISED)}; plus one spare for a dead hub's sensors |`,
    `| nats-servers (3 replicas) | ${costs.nats.toFixed(2)} (all three) | ${natsCores.toFixed(2)} (${natsPerServer.toFixed(2)} per server) | 3 (a quorum of 3; each needs ${natsPerServer.toFixed(2)} cores${natsPerServer > NODE_CORES * TARGET_LOAD ? ': bigger machines' : ''}) |`,
    `| writers | ${costs.writer.toFixed(2)} | ${writerCores.toFixed(2)} | ${nodes(writerCores)} (any number share the consumer) |`,
    `| PostgreSQL | ${costs.postgres.toFixed(2)} | ${pgCores.toFixed(2)} | one primary with ${Math.max(2, Math.ceil(pgCores / TARGET_LOAD))} cores or more (a standby for failover) |`,
  ];
  return [
    `Sizing on paper: ${fmt(FLEET.sensors)} sensors, one reading every ${FLEET.readingEveryS} s = ${fmt(rate)} readings/s.`,
    '',
    ...rows,
    '',
    `Disk: ${bytesPerReading.toFixed(0)} bytes per reading in PostgreSQL is ${perDayGb.toFixed(0)} GB a day ` +
      `(${((perDayGb * 30) / 1000).toFixed(1)} TB a month) before any retention; the stream holds only what the writers have not taken yet.`,
  ].join('\n');
}
