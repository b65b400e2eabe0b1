// What a simulator run says at the end, and its exit code: readings lost or, for a --duration run,
// no connection at all, is a failure (1) that says why; a run that stored everything is 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyFleetStats, type FleetStats } from './fleet.ts';
import { connectFailure, lostReadings, runVerdict } from './run-outcome.ts';

const stats = (over: Partial<FleetStats> = {}): FleetStats => ({ ...emptyFleetStats(2, 2), sentReadings: 10, ackedReadings: 10, ...over });
const facts = { everConnected: true, limited: true, reasonSaid: false, host: '127.0.0.1', port: 7777 };

test('a socket error becomes a reason people know, with the address', () => {
  assert.is(
    connectFailure('connect ECONNREFUSED 127.0.0.1:7777', '127.0.0.1', 7777),
    'cannot connect to the hub at 127.0.0.1:7777: connection refused: nothing listens there (is the hub running? npm start)',
  );
  assert.is(
    connectFailure('getaddrinfo ENOTFOUND hub.invalid', 'hub.invalid', 7777),
    'cannot connect to the hub at hub.invalid:7777: unknown host',
  );
  assert.is(connectFailure('something odd', 'h', 1), 'cannot connect to the hub at h:1: something odd');
  assert.is(connectFailure(null, 'h', 1), 'cannot connect to the hub at h:1: no reason given');
});

test('every reading acknowledged: exit 0 and nothing to say', () => {
  assert.equal(runVerdict({ ...facts, stats: stats() }), { code: 0 });
});

test('unacknowledged, dropped and refused readings are lost: exit 1, counted by kind', () => {
  const s = stats({ bufferedReadings: 3, droppedReadings: 2, rejectedReadings: 1 });
  assert.is(lostReadings(s), 6);
  assert.equal(runVerdict({ ...facts, stats: s }), {
    code: 1,
    message: '6 readings were not stored: 3 not acknowledged by the hub, 2 dropped when the buffer was full, 1 refused by the hub',
  });
});

test('never connected: the loss says why; a --duration run that lost nothing still fails, an open-ended one does not', () => {
  const refused = stats({ ackedReadings: 0, sentReadings: 0, bufferedReadings: 4, lastError: 'connect ECONNREFUSED 127.0.0.1:7777' });
  assert.match(
    runVerdict({ ...facts, everConnected: false, stats: refused }).message ?? '',
    '4 not acknowledged by the hub (cannot connect to the hub at 127.0.0.1:7777: connection refused',
  );
  const nothingTaken = stats({ ackedReadings: 0, sentReadings: 0, lastError: 'connect ECONNREFUSED 127.0.0.1:7777' });
  assert.equal(runVerdict({ ...facts, everConnected: false, stats: nothingTaken }).code, 1);
  assert.match(
    runVerdict({ ...facts, everConnected: false, stats: nothingTaken }).message ?? '',
    /^no sensor ever connected \(cannot connect/,
  );
  assert.equal(runVerdict({ ...facts, everConnected: false, limited: false, stats: nothingTaken }), { code: 0 });
});

test('a reason already said on stderr (refused, a TLS failure) is not said again at the end', () => {
  const refused = stats({ ackedReadings: 0, sentReadings: 0, bufferedReadings: 4, lastError: 'TLS handshake with h:1 failed: x' });
  const verdict = runVerdict({ ...facts, everConnected: false, reasonSaid: true, stats: refused });
  assert.equal(verdict, {
    code: 1,
    message: '4 readings were not stored: 4 not acknowledged by the hub (no sensor ever connected: see why above)',
  });
  assert.equal(runVerdict({ ...facts, everConnected: false, reasonSaid: true, stats: stats({ ackedReadings: 0 }) }), {
    code: 1,
    message: 'no sensor ever connected: see why above',
  });
});

test.run();
