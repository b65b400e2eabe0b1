/**
 * The filters' shape in requests (PROTOCOL.md §2 "Filters"): one value or a comma-separated
 * list, also an array of strings (a JSON body, a stream message, or a repeated query
 * parameter). The names in them are checked by protocol/filters.ts, which says which one is bad.
 */
import { Type } from '@sinclair/typebox';
import { FILTER_FORMS } from '../filters.ts';

export const FilterValue = Type.Union([Type.String(), Type.Array(Type.String())], {
  errorMessage: `must be ${FILTER_FORMS}`,
  errorCode: 'bad_filter',
});

/** `sensor`, `room`, `metric`, each optional: spread into a request schema. */
export const FilterFields = {
  sensor: Type.Optional(FilterValue),
  room: Type.Optional(FilterValue),
  metric: Type.Optional(FilterValue),
};
