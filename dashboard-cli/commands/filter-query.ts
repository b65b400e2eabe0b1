/** The contract's filters as query parameters (PROTOCOL.md §2 "Filters"), lists comma-joined by the client. */
import type { Filters } from '../args.ts';
import type { Query } from '../hub-client.ts';

export function filterQuery(filters: Filters): Query {
  return { sensor: filters.sensor, room: filters.room, metric: filters.metric };
}
