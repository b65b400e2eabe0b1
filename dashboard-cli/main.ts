#!/usr/bin/env node
/**
 * Roomwatch user CLI: the hub's HTTP API and live stream from a terminal (PROTOCOL.md §2-3).
 *
 *   npm run cli -- help
 *   npm run cli -- latest --room server-room
 *   npm run cli -- latest --refresh 1000            # a live table; Ctrl-C to stop
 *   npm run cli -- sensors --json --hub http://192.168.1.20:8080
 *   npm run cli -- history --from -1h --every 5m --out last-hour.csv
 *   npm run cli -- upload readings.csv              # or - for stdin
 *   npm run cli -- report-now --room server-room --timeout-ms 5000
 *   npm run cli -- watch --replay 20                # live; Ctrl-C to stop
 *   npm run cli -- login alex                       # asks for the password; later commands send the token
 *   npm run cli -- users add sue --role operator --room living-room,greenhouse
 *   npm run cli -- tokens create --sensor 'rack*' --room server-room
 *   npm run cli -- activity --follow                # admin; Ctrl-C to stop
 *
 * Exit codes: 0 done, 1 the hub refused, 2 usage, 3 no connection. This file only binds the
 * CLI (cli.ts) to the process: arguments, environment, stdio, Ctrl-C and the exit code.
 */
import { isatty } from 'node:tty';
import { INTERRUPTED_EXIT_CODE, runCli } from './cli.ts';

const interrupt = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // The first Ctrl-C ends a refreshing table or a watch cleanly; a second one means "now".
  if (++interrupts > 1) process.exit(INTERRUPTED_EXIT_CODE);
  interrupt.abort();
});

// A reader that went away (`| head`) has all it wanted: stop quietly, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: {
    write: (text) => void process.stdout.write(text),
    isTTY: process.stdout.isTTY === true,
    get rows() {
      return process.stdout.isTTY ? process.stdout.rows : undefined;
    },
  },
  stderr: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true },
  streams: { stdin: () => process.stdin, stdinIsTTY: isatty(0), stdout: process.stdout },
  now: Date.now,
  signal: interrupt.signal,
});
