// The catalog's fast path for new readings (claimTs, with its gaps and last ts) must never call a
// reading new when its (sensor, metric, ts) may already be stored: against a model that keeps
// every ts handed to the store (new or checked) and every bound an upload or another hub raised.
import { test } from 'uvu';
import fc from 'fast-check';
import { check, fuzzSeed } from '../../test/fuzz/fuzz-support.ts';
import { SeriesCatalog } from './series-catalog.ts';

type Op = { kind: 'claim'; ts: number } | { kind: 'raise'; ts: number };

test('claimTs never takes a ts that may be stored for new: any order, repeats, uploads between', async () => {
  const ts = fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 0, max: 30 }).map((t) => t * 10),
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 12, arbitrary: ts.map((t) => ({ kind: 'claim' as const, ts: t })) },
    { weight: 1, arbitrary: ts.map((t) => ({ kind: 'raise' as const, ts: t })) },
  );
  await check(
    'claimTs against a model of what may be stored',
    fc.property(fc.option(ts, { nil: undefined }), fc.array(op, { maxLength: 400 }), (loaded, ops) => {
      const catalog = new SeriesCatalog();
      const ch = catalog.channel(catalog.seriesId('s1', 'r', 'temperature', 'C'));
      /** ts handed to the store (as new or to be checked): any of them may be stored */
      const handed = new Set<number>();
      let raised = -Infinity;
      if (loaded !== undefined) {
        catalog.raiseBound(ch, loaded);
        raised = loaded;
      }
      for (const o of ops) {
        if (o.kind === 'raise') {
          catalog.raiseBound(ch, o.ts);
          raised = Math.max(raised, o.ts);
          continue;
        }
        const fresh = catalog.claimTs(ch, o.ts);
        if (fresh && (handed.has(o.ts) || o.ts <= raised)) return false;
        handed.add(o.ts);
      }
      return true;
    }),
    { seed: fuzzSeed(2026_12_08), numRuns: 2000 },
  );
});

test.run();
