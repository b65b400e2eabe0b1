/**
 * One connection of `watch` to the hub's WebSocket `GET /api/v1/stream`: open it, send the
 * subscribe message, hand each text message to the caller, keep it alive with pings, and say how
 * it ended. That is one of three: the CLI ended it (Ctrl-C, --count), the hub or the connection
 * went away (worth connecting again: watch.ts does), or the hub refused this client (an HTTP
 * refusal of the upgrade, an error message, a deliberate close such as 1013): a rejection.
 */
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import type { CommandContext } from '../command.ts';
import { HubTlsError, HubUnreachable, StreamClosed } from '../errors.ts';
import { printable } from '../format.ts';
import { connectionFailure, refusal } from '../hub-failures.ts';
import { readText } from '../hub-stream.ts';

export const STREAM_PATH = '/api/v1/stream';

export const sessionDefaults = {
  /** A hub that stops answering pings is gone, even if no TCP reset ever arrives. */
  heartbeatMs: 30_000,
  /** After our close frame, how long the hub's answering one may take before the socket is cut. */
  closeWaitMs: 2000,
} as const;

/** by WebSocket close code */
const CLOSE_REASONS: ReadonlyMap<number, string> = new Map([
  [1000, 'normal closure'],
  [1001, 'the hub is going away'],
  [1005, 'no close code given; the hub may have stopped'],
  [1006, 'the connection was lost'],
  [1008, 'policy violation'],
  [1011, 'the hub failed internally'],
  [1012, 'the hub is restarting'],
  [1013, 'this client reads too slowly; try again later'],
]);

/** What the message handler may do to the session. */
export interface SessionControl {
  /** Close the stream cleanly (1000): the session ends as `ended`. */
  end(): void;
  /** The hub refused this client (an error message): the close that follows rejects with it. */
  fail(error: Error): void;
}

/** How a session ended, when not by a refusal (which rejects). */
export type SessionEnd =
  | { kind: 'ended' }
  /** The hub or the connection went away (or was never there). */
  | { kind: 'gone'; error: HubUnreachable | StreamClosed };

/** Runs one connection to its end; `onText` gets every text message, in order. */
export function streamSession(
  ctx: Pick<CommandContext, 'hub' | 'signal'>,
  subscribe: object,
  onText: (text: string, control: SessionControl) => void,
): Promise<SessionEnd> {
  const { url, headers, ca } = ctx.hub.websocketTarget(STREAM_PATH);
  const timeoutMs = ctx.hub.timeoutMs;
  /** Set when the CLI itself ends the stream (Ctrl-C, --count): the close that follows is success. */
  let endedByUs = false;
  /** The first failure seen; the close that always follows reports it. */
  let failure: Error | undefined;
  let closeTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let awaitingPong = false;

  // wss: the hub's certificate is verified (ws keeps tls's rejectUnauthorized default), against `ca` when given.
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, ...(ca ? { ca } : {}) });

  const end = (): void => {
    if (endedByUs) return;
    endedByUs = true;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(1000);
    // A hub that does not answer our close frame must not hold the exit up.
    closeTimer = setTimeout(() => ws.terminate(), sessionDefaults.closeWaitMs);
  };
  const control: SessionControl = { end, fail: (error) => void (failure ??= error) };

  const onAbort = (): void => end();
  if (ctx.signal.aborted) end();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });

  ws.on('unexpected-response', (_request, response) => {
    // Not an upgrade: the hub (or a proxy) answered with an HTTP status and, usually, an error body.
    const status = response.statusCode ?? 0;
    void readText(response, 1 << 20)
      .then(
        (text) => refusal(status, response.statusMessage ?? '', text, response.headers),
        () => refusal(status, response.statusMessage ?? '', '', response.headers),
      )
      .then((refused) => {
        failure ??= refused;
        ws.terminate();
      });
  });

  ws.on('error', (error) => {
    if (failure !== undefined || endedByUs) return;
    failure = /handshake has timed out/i.test(error.message)
      ? new HubUnreachable(ctx.hub.displayUrl, `no answer within ${timeoutMs} ms`, { cause: error })
      : connectionFailure(ctx.hub.displayUrl, error, { ca: ca !== undefined, secure: url.protocol === 'wss:' });
  });

  ws.on('open', () => {
    ws.send(JSON.stringify(subscribe));
    heartbeat = setInterval(() => {
      if (awaitingPong) {
        failure ??= new HubUnreachable(ctx.hub.displayUrl, `no answer to a ping within ${sessionDefaults.heartbeatMs} ms`);
        ws.terminate();
        return;
      }
      awaitingPong = true;
      ws.ping();
    }, sessionDefaults.heartbeatMs);
  });
  ws.on('pong', () => (awaitingPong = false));

  ws.on('message', (data: RawData) => {
    if (endedByUs) return;
    onText(rawText(data), control);
  });

  return new Promise<SessionEnd>((resolve, reject) => {
    ws.on('close', (code: number, reasonBuffer: Buffer) => {
      clearTimeout(closeTimer);
      clearInterval(heartbeat);
      ctx.signal.removeEventListener('abort', onAbort);
      if (endedByUs && failure === undefined) return resolve({ kind: 'ended' });
      // A certificate the hub now presents that is not trusted is no outage: waiting will not fix it.
      if (failure instanceof HubUnreachable && !(failure instanceof HubTlsError)) return resolve({ kind: 'gone', error: failure });
      if (failure !== undefined) return reject(failure);
      const reason = [CLOSE_REASONS.get(code), printable(reasonBuffer.toString('utf8'))].filter(Boolean).join(': ');
      const closed = new StreamClosed(code, reason || 'no reason given');
      if (StreamClosed.GONE.has(code)) resolve({ kind: 'gone', error: closed });
      else reject(closed);
    });
  });
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
