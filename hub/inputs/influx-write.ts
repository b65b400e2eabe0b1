/**
 * One InfluxDB write (docs/API.md "InfluxDB line protocol"): the body's points become readings
 * and go to the hub through BatchIngest, which resolves once they are committed. Mapping:
 *
 * - sensor: the tag `sensor`, else `host`; a point with neither is a bad line;
 * - room: the tag `room`, else the sensor's known room, else `default`;
 * - metric: the measurement when the field is `value`, else `<measurement>_<field>`, made a
 *   metric name by hub/ingest/foreign-names.ts; each numeric field (float, integer, unsigned) is a reading;
 * - string and boolean fields are not stored (the hub stores numbers), and not an error: they
 *   are counted in /metrics (`not_numeric`), since agents routinely send them beside numbers;
 * - ts: the point's timestamp in the request's precision, else the hub's time.
 *
 * The answer is InfluxDB's: nothing wrong, or `partial write: ...` naming each bad line (the
 * good points are stored), or, when no line could be parsed, InfluxDB's list of parse errors.
 */
import type { BatchIngest, ExternalReading, Rights } from '../ingest/batch-ingest.ts';
import { parseLines, type LinePoint, type Precision } from './influx-line.ts';
import { metricName } from '../ingest/foreign-names.ts';

/** Bad lines named in one answer; the rest are counted. */
export const MAX_NAMED_LINES = 100;
const MAX_SHOWN_LINE_CHARS = 300;

export interface InfluxWriteOutcome {
  /** readings accepted into the commit */
  stored: number;
  /** null: every line was good; else InfluxDB's error text */
  error: string | null;
}

interface Problem {
  number: number;
  text: string;
}

/** Parses, maps and stores one write; resolves once its readings are committed. */
export async function writeLineProtocol(
  text: string,
  precision: Precision,
  rights: Rights,
  ingest: BatchIngest,
): Promise<InfluxWriteOutcome> {
  const readings: ExternalReading[] = [];
  /** by reading index: the line it came from and its field, to name them in a refusal */
  const lineOf: number[] = [];
  const fieldOf: string[] = [];
  /** by line (in the order of the lines that gave readings): where it is in the text, and its number */
  const lineStarts: number[] = [];
  const lineEnds: number[] = [];
  const lineNumbers: number[] = [];
  const problems: Problem[] = [];
  let parsed = 0;
  let notNumeric = 0;
  let noSensor = 0;
  parseLines(text, precision, (result, span) => {
    if (!result.ok) {
      problems.push({ number: span.number, text: `unable to parse '${shown(text, span.start, span.end)}': ${result.reason}` });
      return;
    }
    parsed++;
    const p = result.point;
    const sensor = tag(p, 'sensor') ?? tag(p, 'host');
    if (sensor === undefined) {
      noSensor++;
      problems.push({
        number: span.number,
        text: `unable to map '${shown(text, span.start, span.end)}': no sensor: tag the point with sensor=<id> (or host=<id>)`,
      });
      return;
    }
    const room = tag(p, 'room');
    const line = lineStarts.length;
    lineStarts.push(span.start);
    lineEnds.push(span.end);
    lineNumbers.push(span.number);
    for (const f of p.fields) {
      if (f.kind === 'string' || f.kind === 'boolean') {
        notNumeric++;
        continue;
      }
      const r: ExternalReading = {
        sensor,
        metric: metricName(f.key === 'value' ? p.measurement : `${p.measurement}_${f.key}`),
        value: f.value,
      };
      if (room !== undefined) r.room = room;
      if (p.tsMs !== null) r.ts = p.tsMs;
      readings.push(r);
      lineOf.push(line);
      fieldOf.push(f.key);
    }
  });
  const counters = ingest.counters;
  if (problems.length - noSensor > 0) counters.refused('influx', 'parse', problems.length - noSensor);
  if (noSensor > 0) counters.refused('influx', 'no_sensor', noSensor);
  if (notNumeric > 0) counters.refused('influx', 'not_numeric', notNumeric);

  const outcome = readings.length > 0 ? await ingest.submit(readings, rights, 'influx') : { stored: 0, refused: [] };
  for (const r of outcome.refused) {
    const line = lineOf[r.index]!;
    problems.push({
      number: lineNumbers[line]!,
      text: `refused '${shown(text, lineStarts[line]!, lineEnds[line]!)}' field ${fieldOf[r.index]}: ${r.reason}`,
    });
  }
  if (problems.length === 0) return { stored: outcome.stored, error: null };
  problems.sort((a, b) => a.number - b.number);
  const named = problems.slice(0, MAX_NAMED_LINES).map((p) => p.text);
  if (problems.length > MAX_NAMED_LINES) named.push(`and ${problems.length - MAX_NAMED_LINES} more bad lines`);
  // InfluxDB says "partial write" once anything parsed, and lists parse errors alone otherwise.
  const error = parsed === 0 ? named.join('\n') : `partial write: ${named.join('\n')} dropped=${outcome.refused.length}`;
  return { stored: outcome.stored, error };
}

function tag(p: LinePoint, key: string): string | undefined {
  for (const t of p.tags) if (t.key === key) return t.value;
  return undefined;
}

function shown(text: string, start: number, end: number): string {
  return end - start > MAX_SHOWN_LINE_CHARS ? `${text.slice(start, start + MAX_SHOWN_LINE_CHARS)}...` : text.slice(start, end);
}
