/**
 * `ROOMWATCH_TEST_CLUSTER=1 npm test -- test/contract` runs the tests' hubs in cluster mode:
 * each data folder gets a one-server NATS JetStream of its own (so hubs of different tests do
 * not follow each other) and a database of its own in one PostgreSQL per test process. A hub
 * restarted on the same folder finds the same NATS and database, as a restarted cluster hub
 * would. This is how the contract's tests, written for one hub, are run against cluster mode;
 * without the variable nothing here runs.
 */
import pg from 'pg';
import pino from 'pino';
import { NatsLink } from '../../hub/cluster/nats-link.ts';
import { waitFor } from './api-client.ts';
import { startNatsCluster } from './nats-cluster.ts';
import { spawnNode } from './node-process.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';
import { Teardown } from './teardown.ts';

export const clusterMode = process.env.ROOMWATCH_TEST_CLUSTER === '1';

/** Lives as long as the test process: the orphan watchdog stops its PostgreSQL when the process ends. */
const processScope: Teardown = new Teardown();
let postgres: Promise<PostgresServer> | undefined;
let databases = 0;
const byDataDir = new Map<string, Promise<{ cluster: string; history: string }>>();
/** the same, once made */
const made = new Map<string, { cluster: string; history: string }>();

/** The `--cluster` and `--history` of the hub on `dataDir`, or null when not in cluster mode. */
export function clusterTargetFor(dataDir: string, scope: Teardown): Promise<{ cluster: string; history: string }> | null {
  if (!clusterMode) return null;
  let target = byDataDir.get(dataDir);
  if (!target) {
    target = (async () => {
      const server = await (postgres ??= startPostgres({ scope: processScope }));
      const name = `hub_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const nats = await startNatsCluster({ size: 1, scope });
      const target = { cluster: nats.urls.join(','), history: server.url.replace(/\/[^/]*$/, `/${name}`) };
      // The writer that takes what the hub commits into PostgreSQL; it waits for the stream if the hub has not made it yet.
      spawnNode(['hub/writer/main.ts', '--cluster', target.cluster, '--history', target.history, '--log-level', 'warn'], {}, scope);
      made.set(dataDir, target);
      return target;
    })();
    byDataDir.set(dataDir, target);
  }
  return target;
}

/**
 * In cluster mode, the readings of the hub on `dataDir` as PostgreSQL has them once the writer
 * has taken everything in the stream; null when that hub did not run in cluster mode.
 */
export async function clusterStoredRows(dataDir: string): Promise<Record<string, unknown>[] | null> {
  const target = made.get(dataDir);
  if (!target) return null;
  const link = await NatsLink.connect({ servers: target.cluster.split(','), name: 'store-inspect', log: pino({ level: 'silent' }) });
  try {
    await waitFor(
      'the writer took everything in the stream',
      async () => (await link.writersAckFloor()) >= (await link.streamLastSeq()),
      60_000,
    );
  } finally {
    await link.stop();
  }
  const client = new pg.Client({ connectionString: target.history });
  await client.connect();
  try {
    const result = await client.query(
      `SELECT s.sensor, s.room, s.metric, s.unit, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series
        ORDER BY s.sensor, s.metric, r.ts, r.value`,
    );
    return result.rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
