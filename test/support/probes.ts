/**
 * Small steps shared by the value-rule tests, bound to a file's shared hub. "Not stored" is
 * proved with a barrier: a later reading of metric "sentinel" and its ack. Acks cover every
 * earlier message of the connection, so once it arrives the hub has stored all it ever will
 * of what came before.
 */
import * as assert from 'uvu/assert';
import type { InProcessHub } from './hub-process.ts';
import { latest, type LatestReading } from './http.ts';
import { connect, type TcpSensor } from './tcp-sensor.ts';

export function probes(hub: () => Promise<InProcessHub>, nextTs: () => number) {
  /** A connection to the shared hub that said hello and was welcomed. */
  async function welcomed(sensor: string, room?: string, extra?: Record<string, unknown>): Promise<TcpSensor> {
    const { tcpPort } = await hub();
    const s = await connect(tcpPort);
    await s.hello(sensor, room, extra);
    return s;
  }

  /** Sends a reading of metric "sentinel" with `seq` and waits for its ack. */
  async function barrier(s: TcpSensor, seq: number): Promise<void> {
    await s.send({ type: 'reading', metric: 'sentinel', value: 0, ts: nextTs(), seq });
    await s.ackCovering(seq);
  }

  /** What `latest` shows for the sensor (on the shared hub unless `port` names another), without the sentinel. */
  async function stored(sensor: string, port?: number): Promise<LatestReading[]> {
    const httpPort = port ?? (await hub()).httpPort;
    return (await latest(httpPort, { sensor })).filter((r) => r.metric !== 'sentinel');
  }

  /** Sends each message, expecting an error with `code` for each. */
  async function expectRefused(s: TcpSensor, code: number, messages: object[]): Promise<void> {
    for (const m of messages) {
      await s.send(m);
      const e = await s.next({ type: 'error' });
      assert.is(e.code, code, `error code for ${JSON.stringify(m).slice(0, 200)}`);
    }
  }

  /** Sends `{"type":"hello","v":1,...hello}` on a new connection and expects error `code` as the answer. */
  async function expectHelloRefused(code: number, hello: object): Promise<void> {
    const { tcpPort } = await hub();
    const s = await connect(tcpPort);
    await s.send({ type: 'hello', v: 1, ...hello });
    const reply = await s.next();
    assert.is(reply.type, 'error', `reply to ${JSON.stringify(hello).slice(0, 200)}`);
    assert.is(reply.code, code, `error code for ${JSON.stringify(hello).slice(0, 200)}`);
  }

  return { welcomed, barrier, stored, expectRefused, expectHelloRefused };
}
