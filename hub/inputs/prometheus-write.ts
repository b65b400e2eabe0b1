/**
 * Prometheus remote write 1.0 (docs/API.md "Prometheus remote write"): a snappy-compressed
 * protobuf `WriteRequest` of time series, each a label set and samples. Decoded with protobufjs
 * from the spec's message definitions (below: the fields the hub reads; protobuf skips the
 * others, such as exemplars and metadata). Mapping of each series:
 *
 * - sensor: the label `sensor` (set by relabelling: the mapping), else `instance`;
 * - room: the label `room`, else the sensor's known room, else `default`;
 * - metric: `__name__`, followed by the series' other labels as `_<name>_<value>` in label-name
 *   order (all but `instance`, `job`, `sensor` and `room`), so that series of one name stay
 *   apart (`node_cpu_seconds_total{cpu="0",mode="idle"}` is
 *   `node_cpu_seconds_total_cpu_0_mode_idle`), made a metric name by hub/ingest/foreign-names.ts (a long
 *   one keeps a hash of the whole, so series stay apart);
 * - each sample is a reading at its timestamp (ms). NaN samples, and Prometheus's stale markers
 *   (a NaN of its own), are skipped and counted (`nan`, `stale`).
 */
import protobuf from 'protobufjs';
import type { ExternalReading } from '../ingest/batch-ingest.ts';
import { metricName } from '../ingest/foreign-names.ts';

/** From prompb/remote.proto and prompb/types.proto of Prometheus (remote write 1.0). */
const REMOTE_WRITE_PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated bytes histograms = 4;
}
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

const WriteRequest = protobuf.parse(REMOTE_WRITE_PROTO).root.lookupType('prometheus.WriteRequest');

interface DecodedSeries {
  labels: { name: string; value: string }[];
  samples: { value: number; timestamp: number | protobuf.Long }[];
  histograms: Uint8Array[];
}

export interface RemoteWrite {
  readings: ExternalReading[];
  /** by reading index: the series it came from, named as Prometheus shows it */
  seriesOf: string[];
  /** samples skipped: NaN, stale markers, native histograms (not stored), series without a sensor */
  skipped: { nan: number; stale: number; histogram: number; noSensor: number };
}

/** Labels that place a series (sensor, room) or only name its scrape job: not part of the metric. */
const PLACE_LABELS: ReadonlySet<string> = new Set(['__name__', 'instance', 'job', 'sensor', 'room']);

/** Decodes a WriteRequest (already decompressed); throws protobufjs's error for a malformed one. */
export function decodeRemoteWrite(body: Uint8Array): RemoteWrite {
  const message = WriteRequest.decode(body) as unknown as { timeseries: DecodedSeries[] };
  const out: RemoteWrite = { readings: [], seriesOf: [], skipped: { nan: 0, stale: 0, histogram: 0, noSensor: 0 } };
  for (const series of message.timeseries) {
    out.skipped.histogram += series.histograms.length;
    const place = placeOf(series.labels);
    if (place.sensor === undefined) {
      out.skipped.noSensor += series.samples.length;
      continue;
    }
    const metric = place.metric;
    for (const s of series.samples) {
      if (Number.isNaN(s.value)) {
        if (isStaleMarker(s.value)) out.skipped.stale++;
        else out.skipped.nan++;
        continue;
      }
      const r: ExternalReading = { sensor: place.sensor, metric, value: s.value, ts: toNumber(s.timestamp) };
      if (place.room !== undefined) r.room = place.room;
      out.readings.push(r);
      out.seriesOf.push(place.shown);
    }
  }
  return out;
}

function placeOf(labels: { name: string; value: string }[]): { sensor?: string; room?: string; metric: string; shown: string } {
  let name = '';
  let instance: string | undefined;
  let sensor: string | undefined;
  let room: string | undefined;
  const rest: { name: string; value: string }[] = [];
  for (const l of labels) {
    if (l.name === '__name__') name = l.value;
    else if (l.name === 'instance') instance = l.value;
    else if (l.name === 'sensor') sensor = l.value;
    else if (l.name === 'room') room = l.value;
    if (!PLACE_LABELS.has(l.name)) rest.push(l);
  }
  rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = `${name}{${labels
    .filter((l) => l.name !== '__name__')
    .map((l) => `${l.name}="${l.value}"`)
    .join(',')}}`;
  return { sensor: sensor ?? instance, room, metric: metricName([name, ...rest.map((l) => `${l.name}_${l.value}`)].join('_')), shown };
}

/**
 * Prometheus marks a series that went away with the NaN 0x7ff0000000000002. V8 may set the
 * quiet bit of a NaN it reads (0x7ff8...), but keeps the low bits: they tell the two apart.
 */
const nanBits = new Float64Array(1);
const nanWords = new Uint32Array(nanBits.buffer);
function isStaleMarker(value: number): boolean {
  nanBits[0] = value;
  return nanWords[0] === 2 && (nanWords[1]! & 0xfff7ffff) === 0x7ff00000;
}

/** An int64 as protobufjs gives it (a number, or high and low words): exact up to 2^53, as ms are. */
function toNumber(ts: number | protobuf.Long): number {
  return typeof ts === 'number' ? ts : ts.high * 2 ** 32 + (ts.low >>> 0);
}
