/**
 * What the request schemas share. A request schema is closed (`additionalProperties: false`):
 * a parameter or field a route does not take is refused, since a typo such as `?sensors=x` or
 * `{"sensors":"x"}` would otherwise answer wider than asked, or ask every sensor. An answer
 * schema is open: a hub may add fields, and a client must not break on them.
 */
import { Type, type ObjectOptions, type TProperties } from '@sinclair/typebox';
import type { ProblemOptions } from '../schema-check.ts';

/** A request's query or body: only the listed names. */
export function closed<P extends TProperties>(properties: P, options: ObjectOptions & ProblemOptions = {}) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** The query of a route that takes no parameters: any is refused. */
export const NoParameters = closed({});

/** The query of a route that reads none but must not refuse any (health: probes add their own). */
export const AnyParameters = Type.Object({});

/** ms since the Unix epoch. */
export const TimeMs = Type.Integer({ errorMessage: 'must be a time in ms since the epoch' });

/** A count of things: a whole number, 0 or more. */
export const Count = Type.Integer({ minimum: 0, errorMessage: 'must be a count (a whole number, 0 or more)' });

/** A list of names: rooms, metrics, sensor ids. */
export const Names = Type.Array(Type.String(), { errorMessage: 'must be an array of names' });
