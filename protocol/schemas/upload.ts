/** `POST /api/v1/readings` (PROTOCOL.md §2 "Bulk upload"): the body is CSV (protocol/columns.ts); the answer JSON. */
import { Type } from '@sinclair/typebox';
import { Count } from './common.ts';

/** 200: rows newly stored, and rows already present (in the store, or earlier in the file). */
export const UploadAnswer = Type.Object({ accepted: Count, duplicates: Count });
