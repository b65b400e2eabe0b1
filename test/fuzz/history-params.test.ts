// Property-based fuzz of the history export's time parameters over HTTP (PROTOCOL.md §2
// "History export": from inclusive, to exclusive, each ISO 8601 with a zone or integer ms; bad
// parameters are a 400 before any CSV). Any form of an instant selects the same rows; an
// impossible date or offset is a 400, never a silently rolled-over time or an empty export.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, errorBody, historyRequest, uploadOk } from '../support/api-client.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { exitWhenDone } from '../support/teardown.ts';
import { impossibleTime, isoAt, offset } from './csv-arbitraries.ts';
import { check } from './fuzz-support.ts';

const hub = sharedHub();
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

/** Three readings a millisecond apart around T: from=T keeps the last two, to=T the first. */
const T = Date.UTC(2025, 5, 1, 10, 30, 15, 250);
const form = fc.record({ colon: fc.boolean(), zulu: fc.boolean(), seconds: fc.constant(true) });

test('from and to select the same rows whatever form of the instant is given: ms, ISO with Z, or ISO at any offset', async () => {
  const { httpPort } = await hub();
  await uploadOk(httpPort, `ts,sensor,metric,value\n${T - 1},hp-1,temperature,1\n${T},hp-1,temperature,2\n${T + 1},hp-1,temperature,3\n`);
  const values = async (params: Record<string, string>) => {
    const res = await historyRequest(httpPort, { sensor: 'hp-1', time: 'ms', ...params });
    assert.is(res.status, 200, `${JSON.stringify(params)}: ${res.text.slice(0, 200)}`);
    return csvRecords(res.text).map((r) => r.value);
  };
  await check(
    'history.csv from/to forms',
    fc.asyncProperty(offset, form, fc.boolean(), async (o, f, asMs) => {
      const at = asMs ? String(T) : isoAt(T, o, f);
      assert.equal(await values({ from: at }), ['2', '3'], `from=${at}`);
      assert.equal(await values({ to: at }), ['1'], `to=${at}`);
    }),
    { seed: 80401, numRuns: 60 },
  );
});

test('an impossible date, time or offset as from or to is a 400 bad_parameter, before any CSV', async () => {
  const { httpPort } = await hub();
  await check(
    'history.csv impossible from/to',
    fc.asyncProperty(impossibleTime, fc.constantFrom('from', 'to'), async ({ text, broken }, param) => {
      const res = await historyRequest(httpPort, { [param]: text });
      assert.is(res.status, 400, `${param}=${text} (${broken} out of range): ${res.status} ${res.text.slice(0, 200)}`);
      assert.is(errorBody(res).code, 'bad_parameter');
    }),
    { seed: 80402, numRuns: 120 },
  );
});

test.run();
