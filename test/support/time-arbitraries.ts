/**
 * Text near the ISO 8601 grammar of protocol/time.ts, for property tests: every field in and
 * just out of its range, every zone form (and none), the separators the grammar takes and one it
 * does not, now and then a fraction longer than it allows.
 */
import fc from 'fast-check';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `years` lets a caller weight the years that matter to it (e.g. those within the contract's ts bounds). */
export function nearIsoTime(years: fc.Arbitrary<number> = fc.integer({ min: 0, max: 9999 })): fc.Arbitrary<string> {
  return fc
    .record({
      y: years,
      mo: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 61 }),
      s: fc.option(fc.integer({ min: 0, max: 61 }), { nil: undefined }),
      f: fc.option(fc.stringMatching(/^\d{0,10}$/), { nil: undefined }),
      sep: fc.constantFrom('T', 'T', ' ', 't'),
      zone: fc.oneof(
        fc.constantFrom('Z', 'Z', 'z', ''),
        fc
          .tuple(
            fc.constantFrom('+', '-'),
            fc.integer({ min: 0, max: 16 }),
            fc.integer({ min: 0, max: 61 }),
            fc.constantFrom(':', '', 'none'),
          )
          .map(([sign, oh, om, form]) => (form === 'none' ? `${sign}${pad(oh)}` : `${sign}${pad(oh)}${form}${pad(om)}`)),
      ),
    })
    .map((t) => {
      const seconds = t.s === undefined ? '' : `:${pad(t.s)}${t.f === undefined ? '' : `.${t.f}`}`;
      return `${pad(t.y, 4)}-${pad(t.mo)}-${pad(t.d)}${t.sep}${pad(t.h)}:${pad(t.mi)}${seconds}${t.zone}`;
    });
}
