/**
 * `GET /api/v1/history.csv` (PROTOCOL.md §2 "History export"). The grammar of `from`/`to`
 * (protocol/time.ts) and of `every` (protocol/duration.ts) is checked where they are read, with
 * messages that say what is wrong; here, only that each is given once.
 */
import { Type } from '@sinclair/typebox';
import { closed } from './common.ts';
import { FilterFields } from './filters.ts';

const Once = (what: string) => Type.String({ errorMessage: `must be given once, as ${what}` });

export const HistoryQuery = closed({
  ...FilterFields,
  /** inclusive: ISO 8601 with a zone, or integer ms */
  from: Type.Optional(Once('a time')),
  /** exclusive */
  to: Type.Optional(Once('a time')),
  /** a bucket length: 10s, 5m, 1h, 1d, 1w */
  every: Type.Optional(Once('a duration')),
  time: Type.Optional(Type.Union([Type.Literal('iso'), Type.Literal('ms')], { errorMessage: 'must be iso or ms' })),
});
