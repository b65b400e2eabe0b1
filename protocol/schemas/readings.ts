/** Readings as the API shows them: `latest`, `sensors` (PROTOCOL.md §2). */
import { Type } from '@sinclair/typebox';
import { closed, Names, TimeMs } from './common.ts';
import { FilterFields } from './filters.ts';

/** A reading: in `latest`, report-now answers and stream messages. */
export const Reading = Type.Object({
  sensor: Type.String(),
  room: Type.String(),
  metric: Type.String(),
  value: Type.Number(),
  unit: Type.String(),
  ts: TimeMs,
});

/** `GET /api/v1/latest?sensor=&room=&metric=` */
export const LatestQuery = closed({ ...FilterFields });

/** `GET /api/v1/latest`: the newest reading of every (sensor, metric), sorted by sensor then metric. */
export const LatestAnswer = Type.Object({ readings: Type.Array(Reading) });

/** One entry of `GET /api/v1/sensors`. */
export const SensorInfo = Type.Object({
  sensor: Type.String(),
  room: Type.String(),
  connected: Type.Boolean(),
  /** ms since the epoch; null for a sensor known only by name */
  last_seen: Type.Union([TimeMs, Type.Null()], { errorMessage: 'must be a time in ms since the epoch, or null' }),
  /**
   * `host:port` of its latest connection to the sensor port, kept after it disconnects (and
   * across restarts); null for a sensor that never connected there (uploads and inputs only)
   */
  address: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  metrics: Names,
  /** how its readings arrived last: tcp, mqtt, influx, prometheus or upload; null: not heard from since the hub started */
  source: Type.Optional(
    Type.Union([
      Type.Literal('tcp'),
      Type.Literal('mqtt'),
      Type.Literal('influx'),
      Type.Literal('prometheus'),
      Type.Literal('upload'),
      Type.Null(),
    ]),
  ),
});

/** `GET /api/v1/sensors`: every sensor ever seen, sorted by sensor. */
export const SensorsAnswer = Type.Object({ sensors: Type.Array(SensorInfo) });
