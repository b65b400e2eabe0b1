// Progress on a terminal only; quiet when piped; NO_COLOR honoured (https://no-color.org).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FleetStats } from './fleet.ts';
import { StatusLine, formatStatus } from './status-line.ts';

const stats: FleetStats = {
  sensors: 50,
  started: 50,
  connected: 50,
  sentReadings: 1234,
  resentReadings: 0,
  ackedReadings: 1200,
  bufferedReadings: 34,
  droppedReadings: 0,
  rejectedReadings: 0,
  reconnects: 0,
  stoppedByCode: {},
  lastError: null,
};

function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, ...(columns !== undefined && { columns }), write: (t: string) => writes.push(t) } };
}

// eslint-disable-next-line no-control-regex -- the ANSI escape sequences the status line writes, on purpose
const escapes = /\x1b\[[0-9;]*[A-Za-z]/g;

test('the status reads "sensors 50/50 connected · sent 1,234 · acked 1,200 · buffered 34 · dropped 0"', () => {
  assert.is(formatStatus(stats), 'sensors 50/50 connected · sent 1,234 · acked 1,200 · buffered 34 · dropped 0');
  assert.is(
    formatStatus({ ...stats, connected: 48, droppedReadings: 12_000, stoppedByCode: { 409: 2 } }),
    'sensors 48/50 connected · sent 1,234 · acked 1,200 · buffered 34 · dropped 12,000 · ended by hub 409×2',
  );
});

test('when the stream is not a TTY nothing is printed', () => {
  const { writes, stream } = fakeStream(false);
  const line = new StatusLine({ stream, stats: () => stats, env: {} });
  line.start();
  line.clear();
  line.stop();
  assert.equal(writes, []);
});

test('on a TTY the line is drawn at once, rewritten in place, and cleared on stop', () => {
  const { writes, stream } = fakeStream(true, 200);
  const line = new StatusLine({ stream, stats: () => stats, env: {} });
  line.start();
  line.stop();
  assert.is(writes.length, 2);
  assert.ok(writes[0]!.startsWith('\r') && writes[0]!.endsWith('\x1b[K'), 'carriage return, text, clear to end of line');
  assert.is(writes[0]!.replace(escapes, '').replace('\r', ''), formatStatus(stats));
  assert.ok(writes[0]!.includes('\x1b[32m'), 'coloured when NO_COLOR is not set');
  assert.is(writes[1], '\r\x1b[2K');
});

test('NO_COLOR turns colour off, and a narrow terminal gets the line cut to fit', () => {
  const { writes, stream } = fakeStream(true, 30);
  const line = new StatusLine({ stream, stats: () => stats, env: { NO_COLOR: '1' } });
  line.start();
  line.stop();
  const text = writes[0]!.slice(1, -'\x1b[K'.length);
  assert.ok(!text.includes('\x1b'), `no escape sequence in ${JSON.stringify(text)}`);
  assert.is(text, formatStatus(stats).slice(0, 29));
});

test.run();
