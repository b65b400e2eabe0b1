/**
 * A whole cluster for the cluster tests, on one machine: three nats-servers, PostgreSQL, hubs
 * started as processes with `--cluster`, `--history` and `--hub-id` (so they can be killed
 * -9), and writers (`hub/writer/main.ts`, what `npm run writer` runs). Everything registers
 * with the test's teardown. It also reads what the cluster did: the writers' consumer (caught
 * up or not) and the readings in PostgreSQL by name.
 *
 *   if (!clusterPeersInstalled('cross-hub reads')) return;
 *   const c = await startCluster();
 *   const a = await c.startHub('a');
 *   await c.startWriter();
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { STREAM_NAME, WRITERS_CONSUMER } from '../../hub/cluster/cluster-names.ts';
import { waitFor } from '../support/api-client.ts';
import { startHubProcess, tempDataDir, type HubProcess } from '../support/hub-process.ts';
import { natsInstalled, startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { spawnNode, type NodeProcess } from '../support/node-process.ts';
import { postgresInstalled, startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { perTest, type Teardown } from '../support/teardown.ts';
import { readingKey, type SentReading } from './recording-fleet.ts';

/** Whether nats-server and PostgreSQL are both here; prints a `[skip] ` line for each missing one. */
export function clusterPeersInstalled(what: string): boolean {
  const nats = natsInstalled(what);
  const pg = postgresInstalled(what);
  return nats && pg;
}

export interface TestCluster {
  nats: NatsCluster;
  pg: PostgresServer;
  /** for `--cluster` */
  clusterUrls: string;
  /** Starts hub `name` (its --hub-id) on fresh ports and a data folder of its own. */
  startHub(name: string, extra?: string[]): Promise<HubProcess>;
  /** Starts a writer process (`extra` arguments, `env` added) and waits until it runs. */
  startWriter(extra?: string[], env?: NodeJS.ProcessEnv): Promise<NodeProcess>;
  /** Every writer started, in order. */
  writers: NodeProcess[];
  /** A JetStream manager on a connection of the test's own. */
  jsm(): Promise<JetStreamManager>;
  /** Waits until the writers' consumer has nothing pending and nothing unacked: everything published is in PostgreSQL. */
  writersCaughtUp(timeoutMs?: number): Promise<ConsumerInfo>;
  /** Every reading in PostgreSQL, by name. */
  storedReadings(): Promise<StoredReading[]>;
}

export interface StoredReading extends SentReading {
  /** how many rows PostgreSQL holds for this identity (the key makes it 1) */
  copies: number;
}

/** `scope`: the test's teardown, or a file's own for a cluster its tests share. */
export async function startCluster(scope: Teardown = perTest): Promise<TestCluster> {
  const [nats, pg] = await Promise.all([startNatsCluster({ scope }), startPostgres({ scope })]);
  const clusterUrls = nats.urls.join(',');
  let nc: NatsConnection | undefined;
  let manager: JetStreamManager | undefined;
  const jsm = async (): Promise<JetStreamManager> => {
    if (manager) return manager;
    nc = await connect({ servers: nats.urls, maxReconnectAttempts: -1, reconnectTimeWait: 200, name: 'cluster test' });
    scope.add('test nats connection', () => nc?.close());
    manager = await jetstreamManager(nc, { timeout: 10_000 });
    return manager;
  };
  const consumerInfo = async (): Promise<ConsumerInfo> => (await jsm()).consumers.info(STREAM_NAME, WRITERS_CONSUMER);

  const writers: NodeProcess[] = [];
  return {
    nats,
    pg,
    clusterUrls,
    writers,
    jsm,
    startHub: async (name, extra = []) => {
      const data = await tempDataDir(scope);
      return startHubProcess(
        {
          dataDir: data.path,
          // info: a hub that fails to start or to follow shows in its output where it was
          args: ['--cluster', clusterUrls, '--history', pg.url, '--hub-id', name, '--log-level', 'info', '--log-file', 'none', ...extra],
          // it connects to NATS and PostgreSQL (and may make the stream and tables) before it listens
          startTimeoutMs: 90_000,
        },
        scope,
      );
    },
    startWriter: async (extra = [], env = {}) => {
      const writer = spawnNode(['hub/writer/main.ts', '--cluster', clusterUrls, '--history', pg.url, ...extra], { env }, scope);
      writers.push(writer);
      let exit: string | undefined;
      void writer.exited.then((e) => (exit = `the writer exited (${e.code ?? e.signal})`));
      // running: it said so, or the consumer has its pull request
      await waitFor(
        'a writer running',
        async () => {
          if (exit) throw new Error(exit);
          if (writer.stdout().includes('"msg":"writer started"')) return true;
          return ((await consumerInfo().catch(() => undefined))?.num_waiting ?? 0) > 0;
        },
        30_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${exit ?? err.message}\nwriter stdout: ${writer.stdout().slice(-1500)}\nstderr: ${writer.stderr().slice(-1500)}`);
      });
      return writer;
    },
    writersCaughtUp: async (timeoutMs = 60_000) => {
      let last: ConsumerInfo | undefined;
      return waitFor(
        'the writers caught up (nothing pending, nothing unacked)',
        async () => {
          last = await consumerInfo();
          return last.num_pending === 0 && last.num_ack_pending === 0 ? last : undefined;
        },
        timeoutMs,
        100,
      ).catch((err: Error) => {
        const brief = last && {
          pending: last.num_pending,
          ack_pending: last.num_ack_pending,
          redelivered: last.num_redelivered,
          waiting: last.num_waiting,
          delivered: last.delivered,
          ack_floor: last.ack_floor,
        };
        throw new Error(`${err.message}; the consumer: ${JSON.stringify(brief)}`);
      });
    },
    storedReadings: async () => {
      const rows = await pg.query<{ sensor: string; metric: string; ts: string; value: number; copies: string }>(
        // channels: one per (sensor, metric), the half of the readings' key that names them
        `select c.sensor, c.metric, r.ts, min(r.value) as value, count(*) as copies
           from readings r join channels c on c.channel = r.channel
          group by c.sensor, c.metric, r.ts`,
      );
      return rows.map((r) => ({ sensor: r.sensor, metric: r.metric, ts: Number(r.ts), value: r.value, copies: Number(r.copies) }));
    },
  };
}

/**
 * The check every fault test ends with: every acked reading is in PostgreSQL exactly once with
 * its value, and PostgreSQL holds as many rows as distinct readings were sent (after a drain,
 * every sent reading was acked). Returns a message per broken rule (empty: all held).
 */
export function compareWithSent(stored: StoredReading[], sent: SentReading[], acked: SentReading[]): string[] {
  const problems: string[] = [];
  const byKey = new Map(stored.map((r) => [readingKey(r), r]));
  const missing = acked.filter((r) => !byKey.has(readingKey(r)));
  if (missing.length > 0)
    problems.push(`${missing.length} acked readings are not in PostgreSQL, e.g. ${JSON.stringify(missing.slice(0, 3))}`);
  const doubled = stored.filter((r) => r.copies !== 1);
  if (doubled.length > 0)
    problems.push(`${doubled.length} readings are in PostgreSQL more than once, e.g. ${JSON.stringify(doubled.slice(0, 3))}`);
  const wrong = acked.filter((r) => byKey.has(readingKey(r)) && byKey.get(readingKey(r))!.value !== r.value);
  if (wrong.length > 0)
    problems.push(`${wrong.length} readings have another value in PostgreSQL, e.g. ${JSON.stringify(wrong.slice(0, 3))}`);
  const rows = stored.reduce((n, r) => n + r.copies, 0);
  if (rows !== sent.length)
    problems.push(`PostgreSQL holds ${rows} rows of the fleet's sensors; ${sent.length} distinct readings were sent`);
  return problems;
}
