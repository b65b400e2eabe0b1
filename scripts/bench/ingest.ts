/**
 * Ingest benchmark: every sensor connection sends its whole share of the dataset as fast as
 * the hub reads it, one reading per line or in batches; a reading counts when acknowledged.
 */
import { connect, type Socket } from 'node:net';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { forEachReading, sensorId, type Dataset } from './dataset.ts';

export type IngestMode = { kind: 'line' } | { kind: 'batch'; size: number };

interface Conn {
  socket: Socket;
  payload: Buffer;
  lastSeq: number;
  acked: number;
}

/** Builds each connection's payload up front, so the generator spends its CPU on sending only. */
export function buildPayloads(d: Dataset, mode: IngestMode): { payloads: Buffer[]; lastSeqs: number[]; readings: number } {
  const payloads: Buffer[] = [];
  const lastSeqs: number[] = [];
  let readings = 0;
  for (let s = 0; s < d.sensors; s++) {
    const parts: string[] = [];
    let seq = 0;
    let batch: string[] = [];
    forEachReading(d, s, (metric, value, ts) => {
      readings++;
      if (mode.kind === 'line') {
        parts.push(`{"type":"reading","metric":"${metric}","value":${value},"ts":${ts},"seq":${++seq}}\n`);
      } else {
        batch.push(`{"metric":"${metric}","value":${value},"ts":${ts}}`);
        if (batch.length === mode.size) {
          parts.push(`{"type":"batch","seq":${++seq},"readings":[${batch.join(',')}]}\n`);
          batch = [];
        }
      }
    });
    if (batch.length > 0) parts.push(`{"type":"batch","seq":${++seq},"readings":[${batch.join(',')}]}\n`);
    payloads.push(Buffer.from(parts.join('')));
    lastSeqs.push(seq);
  }
  return { payloads, lastSeqs, readings };
}

/**
 * Connects every sensor (hello, welcome), then sends everything; resolves when all is acked.
 * `port`: the hub's sensor port, or sensor index -> port (a cluster's hubs share the fleet).
 */
export async function runIngest(
  port: number | ((sensor: number) => number),
  d: Dataset,
  payloads: Buffer[],
  lastSeqs: number[],
): Promise<{ elapsedMs: number }> {
  const conns: Conn[] = [];
  let remaining = d.sensors;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  // Connect in waves of 100, as a real fleet would.
  for (let base = 0; base < d.sensors; base += 100) {
    const wave: Promise<void>[] = [];
    for (let s = base; s < Math.min(d.sensors, base + 100); s++) {
      wave.push(
        new Promise<void>((resolve, reject) => {
          const socket = connect(typeof port === 'number' ? port : port(s), '127.0.0.1');
          const conn: Conn = { socket, payload: payloads[s]!, lastSeq: lastSeqs[s]!, acked: 0 };
          conns.push(conn);
          const splitter = new LineSplitter(1 << 20);
          socket.on('error', reject);
          socket.on('data', (chunk: Buffer) =>
            splitter.push(chunk, (line) => {
              const m = JSON.parse(line) as { type: string; seq?: number; code?: number; message?: string };
              if (m.type === 'welcome') resolve();
              else if (m.type === 'ack') {
                conn.acked = m.seq!;
                if (conn.acked === conn.lastSeq && --remaining === 0) resolveDone();
              } else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
            }),
          );
          socket.write(`{"type":"hello","v":1,"sensor":"${sensorId(s)}","room":"room-${s % 20}"}\n`);
        }),
      );
    }
    await Promise.all(wave);
  }
  const started = performance.now();
  for (const c of conns) c.socket.write(c.payload);
  await done;
  const elapsedMs = performance.now() - started;
  for (const c of conns) c.socket.destroy();
  return { elapsedMs };
}
