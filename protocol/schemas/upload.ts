/** `POST /api/v1/readings` (PROTOCOL.md §2 "Bulk upload"): the body is CSV (protocol/columns.ts); the answer JSON. */
import { Type } from '@sinclair/typebox';
import { Count } from './common.ts';

/**
 * 200: rows newly stored, and rows already present (in the store, or earlier in the file); on a hub
 * with a retention, also the rows older than its horizon (not stored) and that horizon.
 */
export const UploadAnswer = Type.Object({
  accepted: Count,
  duplicates: Count,
  expired: Type.Optional(Count),
  retained_from: Type.Optional(Type.String()),
});
