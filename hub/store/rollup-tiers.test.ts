// The retention and rollup options (docs/ADMIN.md "Retention and rollups"): what is accepted,
// and refusals that say what to write instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveHubOptions } from '../setup/options.ts';
import { acceptHorizon, formatDuration, parseRetention, parseRollups } from './rollup-tiers.ts';

test('--rollups takes WIDTH:KEEP tiers, finest first, KEEP a duration or forever; none for no rollups', () => {
  assert.equal(parseRollups('1m:365d,1h:forever'), {
    ok: true,
    value: [
      { widthMs: 60_000, keepMs: 365 * 86_400_000 },
      { widthMs: 3_600_000, keepMs: null },
    ],
  });
  assert.equal(parseRollups('none'), { ok: true, value: [] });
  assert.equal(parseRollups('10s:1d,5m:30d,1d:forever').ok, true);
});

test('a bad --rollups is refused with what to write', () => {
  const problem = (text: string) => {
    const r = parseRollups(text);
    assert.is(r.ok, false, text);
    return (r as { problem: string }).problem;
  };
  assert.match(problem('1m:1y'), /use d or w/);
  assert.match(problem('1m'), /WIDTH:KEEP.*--rollups 1m:365d,1h:forever/);
  assert.match(problem('1h:forever,1m:365d'), /whole multiple of the one before/);
  assert.match(problem('1h:1d,90m:30d'), /whole multiple/);
  assert.match(problem('1h:30m'), /less than one bucket/);
  assert.match(problem('500ms:1d'), /whole seconds/);
  assert.match(problem('1m:365d,,1h:forever'), /is not a tier/);
});

test('--retention takes a duration of at least 1h, or forever', () => {
  assert.equal(parseRetention('30d'), { ok: true, value: 30 * 86_400_000 });
  assert.equal(parseRetention('forever'), { ok: true, value: null });
  const short = parseRetention('10m');
  assert.is(short.ok, false);
  assert.match((short as { problem: string }).problem, /shorter than 1h.*30d/);
  assert.match((parseRetention('1 month') as { problem: string }).problem, /e\.g\. --retention 30d/);
});

test('the hub options check retention and tiers given in code, naming the option', () => {
  assert.throws(() => resolveHubOptions({ retentionMs: 1000 }), /retentionMs/);
  assert.throws(
    () =>
      resolveHubOptions({
        rollupTiers: [
          { widthMs: 3_600_000, keepMs: null },
          { widthMs: 60_000, keepMs: null },
        ],
      }),
    /rollupTiers/,
  );
  const o = resolveHubOptions({});
  assert.is(o.retentionMs, null, 'raw readings are kept forever by default');
  assert.equal(
    o.rollupTiers.map((t) => formatDuration(t.widthMs)),
    ['1m', '1h'],
  );
});

test('the accept horizon is now - retention, aligned down to the coarsest tier', () => {
  const config = {
    retentionMs: 86_400_000,
    tiers: [
      { widthMs: 60_000, keepMs: null },
      { widthMs: 3_600_000, keepMs: null },
    ],
  };
  const now = Date.UTC(2026, 0, 10, 12, 34, 56);
  assert.is(acceptHorizon(config, now), Date.UTC(2026, 0, 9, 12));
  assert.is(acceptHorizon({ ...config, retentionMs: null }, now), null);
});

test.run();
