/**
 * `ROOMWATCH_TEST_CLUSTER=1 npm test -- test/contract` runs the tests' hubs in cluster mode:
 * each data folder gets a one-server NATS JetStream of its own (so hubs of different tests do
 * not follow each other) and a database of its own in one PostgreSQL per test process. A hub
 * restarted on the same folder finds the same NATS and database, as a restarted cluster hub
 * would. This is how the contract's tests, written for one hub, are run against cluster mode;
 * without the variable nothing here runs.
 */
import pg from 'pg';
import { startNatsCluster } from './nats-cluster.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';
import { Teardown } from './teardown.ts';

export const clusterMode = process.env.ROOMWATCH_TEST_CLUSTER === '1';

/** Lives as long as the test process: the orphan watchdog stops its PostgreSQL when the process ends. */
const processScope: Teardown = new Teardown();
let postgres: Promise<PostgresServer> | undefined;
let databases = 0;
const byDataDir = new Map<string, Promise<{ cluster: string; history: string }>>();

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
      return { cluster: nats.urls.join(','), history: server.url.replace(/\/[^/]*$/, `/${name}`) };
    })();
    byDataDir.set(dataDir, target);
  }
  return target;
}
