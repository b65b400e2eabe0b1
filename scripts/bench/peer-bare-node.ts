/**
 * The ingest peer: a bare Node TCP server that only splits lines, `JSON.parse`s them, answers
 * `hello` with `welcome` and acks each seq; it stores nothing. It is the ceiling of any Node hub
 * on this machine, so the ingest rows read as a share of it. Runs in a child process of its own,
 * like the hub, so the load generator and the server do not share a thread.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../../protocol/line-splitter.ts';

export interface RunningPeer {
  pid: number;
  tcpPort: number;
  stop(): Promise<void>;
}

interface Message {
  type?: string;
  seq?: number;
  sensor?: string;
}

function serve(socket: Socket): void {
  const splitter = new LineSplitter(1 << 20);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    // One write per chunk read, however many acks it holds: what a hub that acks each seq
    // without waiting for a store would do at best.
    let out = '';
    splitter.push(chunk, (line) => {
      const m = JSON.parse(line) as Message;
      if (m.type === 'hello') out += `{"type":"welcome","v":1,"sensor":${JSON.stringify(m.sensor)},"time":${Date.now()}}\n`;
      else if (typeof m.seq === 'number') out += `{"type":"ack","seq":${m.seq}}\n`;
    });
    if (out) socket.write(out);
  });
}

/** Starts the peer in a child process; resolves once it listens on a free loopback port. */
export async function startBareNodePeer(): Promise<RunningPeer> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROOMWATCH_BARE_PEER: 'serve' },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // A benchmark that dies must not leave a peer behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const tcpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare Node peer did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { tcpPort?: number };
      if (m.tcpPort) {
        clearTimeout(timer);
        resolve(m.tcpPort);
      }
    });
    child.on('exit', () => reject(new Error('bare Node peer exited before listening')));
  });
  return {
    pid: child.pid!,
    tcpPort,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.env.ROOMWATCH_BARE_PEER === 'serve') {
  const server = createServer(serve);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object') process.stdout.write(`${JSON.stringify({ tcpPort: address.port })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
