// docs/ALERTS.md "From the command line": `cli alerts set|rules|delete` and `cli alerts` against
// a real hub; a rule is checked with the hub's grammar before anything is sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCliInProcess } from '../../dashboard-cli/testing/run-cli-in-process.ts';
import { startHub, type InProcessHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const env = { TZ: 'UTC', NO_COLOR: '1', ROOMWATCH_TOKEN: '' };
const cli = (h: InProcessHub, args: string[]) => runCliInProcess([...args, '--hub', `http://127.0.0.1:${h.httpPort}`], { env });

test('alerts set, rules, the events of a firing rule, and delete', async () => {
  const h = await startHub();
  const set = await cli(h, ['alerts', 'set', 'hot', 'temperature > 30 clear < 29', '--room', 'lab', '--webhook', 'http://127.0.0.1:9/a']);
  assert.is(set.code, 0, set.stderr);
  assert.is(set.stdout, 'added rule hot: temperature > 30 clear < 29 in lab, webhooks http://127.0.0.1:9/a\n');
  const rules = await cli(h, ['alerts', 'rules']);
  assert.is(rules.code, 0, rules.stderr);
  assert.match(
    rules.stdout,
    /^name +rule +room +sensor +webhooks +firing\nhot +temperature > 30 clear < 29 +lab +\* +http:\/\/127\.0\.0\.1:9\/a +0\n$/,
  );

  assert.match((await cli(h, ['alerts'])).stdout, /^nothing fires now\n\nno alert events\n$/);
  const s = await connect(h.tcpPort);
  await s.hello('rack1', 'lab');
  await s.send({ type: 'reading', metric: 'temperature', value: 31.5, ts: Date.now(), seq: 1 });
  await s.ackCovering(1);
  const shown = await cli(h, ['alerts']);
  assert.is(shown.code, 0, shown.stderr);
  assert.match(
    shown.stdout,
    /firing now \(since\)\ntime +rule +state +sensor +room +value +condition\n.* hot +firing +rack1 +lab +temperature 31\.5 +temperature > 30 clear < 29\n/,
  );
  const json = await cli(h, ['alerts', '--state', 'firing', '--json']);
  const answer = JSON.parse(json.stdout) as { events: { rule: string; state: string }[] };
  assert.equal(
    answer.events.map((e) => [e.rule, e.state]),
    [['hot', 'firing']],
  );
  assert.match((await cli(h, ['alerts', 'rules'])).stdout, / 1\n$/);

  const del = await cli(h, ['alerts', 'delete', 'hot']);
  assert.is(del.code, 0, del.stderr);
  assert.match((await cli(h, ['alerts', 'rules'])).stdout, /^no alert rules/);
  const missing = await cli(h, ['alerts', 'delete', 'hot']);
  assert.is.not(missing.code, 0);
  assert.match(missing.stderr, /no alert rule "hot"/);
});

test('a rule that does not parse is a usage error with the reason, and nothing is sent', async () => {
  const h = await startHub();
  const bad = await cli(h, ['alerts', 'set', 'hot', 'temperature > 30 clear > 31']);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /must point the other way/);
  const badName = await cli(h, ['alerts', 'set', '-x', 'no data for 5m']);
  assert.is.not(badName.code, 0);
  assert.match((await cli(h, ['alerts', 'rules'])).stdout, /^no alert rules/);
  const state = await cli(h, ['alerts', '--state', 'hot']);
  assert.is(state.code, 2);
  assert.match(state.stderr, /--state takes firing or cleared/);
});

test.run();
