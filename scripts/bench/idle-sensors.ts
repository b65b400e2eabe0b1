/**
 * Memory per idle sensor connection: N connections from this process, each of which said hello
 * and sent one batch (3 readings, acknowledged) and then stays quiet; and, for comparison, N that
 * never said hello. The hub's heap and RSS are read through its inspector after a full garbage
 * collection, before and with the connections open; the difference divided by N is the cost of
 * one (its session, socket, registry record, series and latest values together).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { freePort } from './free-port.ts';
import { startHub } from './hub-process.ts';

interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface IdleSensorMemory {
  count: number;
  /** per connection, bytes: said hello and sent a reading */
  greeted: PerConnection;
  /** per connection, bytes: connected, never said hello */
  silent: PerConnection;
}

/** Bytes per connection: the main thread's heap in use and committed, memory outside it, the process's RSS. */
interface PerConnection {
  heap: number;
  heapTotal: number;
  external: number;
  rss: number;
}

/** A Chrome DevTools Protocol session on the hub's inspector: a full GC, then its process.memoryUsage(). */
async function inspector(port: number): Promise<{ memory(): Promise<MemoryUsage>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async memory() {
      // Twice: what the first collection frees (weak references, finalizers) goes in the second.
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const r = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
        result: { value: string };
      };
      return JSON.parse(r.result.value) as MemoryUsage;
    },
    close: () => ws.close(),
  };
}

/** `count` connections in waves of 100; with `greet`, each says hello and sends one acknowledged batch. */
async function openConnections(port: number, count: number, prefix: string, greet: boolean): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const ts = Date.now() - 60_000;
  for (let base = 0; base < count; base += 100) {
    const wave: Promise<void>[] = [];
    for (let i = base; i < Math.min(count, base + 100); i++) {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      wave.push(
        new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          if (!greet) {
            socket.once('connect', () => resolve());
            return;
          }
          const splitter = new LineSplitter(1 << 16);
          socket.on('data', (chunk: Buffer) =>
            splitter.push(chunk, (line) => {
              const m = JSON.parse(line) as { type: string; code?: number; message?: string };
              if (m.type === 'welcome') {
                const readings = ['temperature', 'humidity', 'cpu_load'].map((metric, k) => ({ metric, value: 20 + k, ts }));
                socket.write(`${JSON.stringify({ type: 'batch', seq: 1, readings })}\n`);
              } else if (m.type === 'ack') resolve();
              else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
              return true;
            }),
          );
          socket.write(
            `${JSON.stringify({ type: 'hello', v: 1, sensor: `${prefix}-${String(i).padStart(5, '0')}`, room: `room-${i % 20}` })}\n`,
          );
        }),
      );
    }
    await Promise.all(wave);
  }
  return sockets;
}

async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once('close', () => resolve());
          s.destroy();
        }),
    ),
  );
}

const perConnection = (before: MemoryUsage, after: MemoryUsage, n: number): PerConnection => ({
  heap: (after.heapUsed - before.heapUsed) / n,
  heapTotal: (after.heapTotal - before.heapTotal) / n,
  external: (after.external - before.external) / n,
  rss: (after.rss - before.rss) / n,
});

/** A fresh hub, warmed up, then `count` connections held open: bytes per connection. */
async function measure(count: number, greet: boolean): Promise<PerConnection> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-idle-'));
  const inspectPort = await freePort();
  const hub = await startHub(dataDir, ['--log-level', 'warn'], [`--inspect=127.0.0.1:${inspectPort}`]);
  const probe = await inspector(inspectPort);
  try {
    // A warm-up round first, so code loaded and compiled on first use is not counted per connection.
    await closeAll(await openConnections(hub.tcpPort, 200, 'warm', greet));
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await probe.memory();
    const sockets = await openConnections(hub.tcpPort, count, 'idle', greet);
    // Settled: the activity log's and the registry's writes for these connections are in the store.
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await probe.memory();
    await closeAll(sockets);
    return perConnection(before, after, count);
  } finally {
    probe.close();
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function idleSensorMemory(count: number): Promise<IdleSensorMemory> {
  // Each on a hub of its own: memory freed by one kind of connection would hide the other's growth.
  return { count, greeted: await measure(count, true), silent: await measure(count, false) };
}
