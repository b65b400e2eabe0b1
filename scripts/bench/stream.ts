/** Stream subscribers during ingest: how much does each subscriber slow ingest? */
import WebSocket from 'ws';
import { wsText } from '../../test/support/ws-text.ts';

export interface Subscribers {
  received(): number;
  close(): void;
}

/** Opens `count` WebSocket subscribers to every reading (or one room), each counting what it gets. */
export async function subscribe(httpPort: number, count: number, room: string | null): Promise<Subscribers> {
  let received = 0;
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/stream`);
          sockets.push(ws);
          ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', replay: 0, ...(room ? { room } : {}) })));
          ws.on('message', (data) => {
            const text = wsText(data);
            if (text.startsWith('{"type":"subscribed"')) resolve();
            else received++;
          });
          ws.on('error', reject);
        }),
    ),
  );
  return { received: () => received, close: () => sockets.forEach((s) => s.close()) };
}
