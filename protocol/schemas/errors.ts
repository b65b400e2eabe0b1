/**
 * Every error answer (PROTOCOL.md §2): `{"error":{"code","message"}}`; an upload refusal adds
 * `rows`. The codes and their statuses are protocol/api-errors.ts; a client must still take a
 * code it does not know (a newer hub), so the schema says only that it is a string.
 */
import { Type } from '@sinclair/typebox';

/** One bad row of a refused upload; line 1 is the header. */
export const BadRow = Type.Object({ line: Type.Integer({ minimum: 1 }), message: Type.String() });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    rows: Type.Optional(Type.Array(BadRow)),
  }),
});
