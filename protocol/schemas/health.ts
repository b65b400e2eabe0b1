/** `GET /api/v1/health` (PROTOCOL.md §2; docs/API.md): 200 when ok, 503 otherwise, with the same body. */
import { Type } from '@sinclair/typebox';
import { AnyParameters } from './common.ts';

/** Probes and load balancers add parameters of their own: health takes any. */
export const HealthQuery = AnyParameters;

const RequiredOrOpen = Type.Union([Type.Literal('required'), Type.Literal('open')]);

/**
 * What everyone gets. A login of every room (or anyone, on an open hub) also gets the hub's
 * counts (`uptime_ms`, `sensors_connected`, `readings_stored`, `memory`, `store_error`, ...):
 * the schema is open to them.
 */
export const HealthAnswer = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('starting'), Type.Literal('stopping'), Type.Literal('store_failing')]),
  auth: Type.Object({ users: RequiredOrOpen, sensors: RequiredOrOpen }),
  version: Type.String(),
});
