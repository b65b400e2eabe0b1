/**
 * Stream subscribers during ingest: how much do they slow the hub? The subscribers run in a
 * process of their own, so their parsing never holds up the load generator's sockets, and at the
 * lowest CPU priority (nice 19): on these 2 shared cores, clients that parse every message they
 * can get would otherwise take a core from the hub, which measures the clients, not the hub (in
 * real life they sit on other machines). So they read only what the cores spare, fall behind,
 * and most of what they would get is dropped for them: the case that must not slow the hub.
 * ROOMWATCH_BENCH_STREAM_NICE=0 runs them at normal priority instead.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { wsText } from '../../test/support/ws-text.ts';

export interface Subscribers {
  /** messages the subscribers received so far (readings and dropped notices) */
  received(): Promise<number>;
  close(): Promise<void>;
}

interface Job {
  httpPort: number;
  count: number;
  room: string | null;
}

/** Opens `count` WebSocket subscribers to every reading (or one room), in a child process; resolves once all are subscribed. */
export async function subscribe(httpPort: number, count: number, room: string | null): Promise<Subscribers> {
  const job: Job = { httpPort, count, room };
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ROOMWATCH_BENCH_SUBSCRIBERS: JSON.stringify(job) },
  });
  if (process.env.ROOMWATCH_BENCH_STREAM_NICE !== '0') setPriority(child.pid!, 19);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // A benchmark that dies must not leave subscribers behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const waiting: ((n: number) => void)[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stream subscribers did not subscribe within 60 s')), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; received?: number };
      if (m.ready) {
        clearTimeout(timer);
        resolve();
      } else if (m.received !== undefined) waiting.shift()?.(m.received);
    });
    child.on('exit', () => reject(new Error('stream subscribers exited before subscribing')));
  });
  return {
    received: () =>
      new Promise<number>((resolve) => {
        waiting.push(resolve);
        child.stdin.write('count\n');
      }),
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(job: Job): Promise<void> {
  let received = 0;
  await Promise.all(
    Array.from(
      { length: job.count },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${job.httpPort}/api/v1/stream`);
          ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', replay: 0, ...(job.room ? { room: job.room } : {}) })));
          ws.on('message', (data) => {
            const text = wsText(data);
            if (text.startsWith('{"type":"subscribed"')) resolve();
            else received++;
          });
          ws.on('error', reject);
        }),
    ),
  );
  process.stdout.write('{"ready":true}\n');
  createInterface({ input: process.stdin }).on('line', () => process.stdout.write(`${JSON.stringify({ received })}\n`));
}

if (process.env.ROOMWATCH_BENCH_SUBSCRIBERS) {
  process.on('SIGTERM', () => process.exit(0));
  await serve(JSON.parse(process.env.ROOMWATCH_BENCH_SUBSCRIBERS) as Job);
}
