/**
 * The filters of PROTOCOL.md §2 over HTTP: protocol/filters.ts holds the rule; this turns a bad
 * filter into the API's 400 `bad_filter`. Code outside hub/http imports protocol/filters.ts.
 */
import { parseFilters as readFilters, type Filters } from '../../protocol/filters.ts';
import { HubError } from '../hub-error.ts';

export { matches, NO_FILTERS, type Filters } from '../../protocol/filters.ts';

/** Reads the filters from a query string object or a JSON body; 400 `bad_filter` for a bad one. */
export function parseFilters(source: Readonly<Record<string, unknown>> | null | undefined): Filters {
  const parsed = readFilters(source);
  if (!parsed.ok) throw new HubError('bad_filter', parsed.problem);
  return parsed.filters;
}
