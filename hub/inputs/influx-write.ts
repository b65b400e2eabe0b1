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
import type { BatchIngest, Rights } from '../ingest/batch-ingest.ts';
import type { BatchRows } from '../ingest/batch-rows.ts';
import { parseLine, parseLines, type LinePoint, type LineResult, type LineSpan, type Precision } from './influx-line.ts';
import { fastReadable, FastLines, fields } from './influx-fast.ts';
import { metricName } from '../ingest/foreign-names.ts';

/** Bad lines named in one answer; the rest are counted. */
export const MAX_NAMED_LINES = 100;
const MAX_SHOWN_LINE_CHARS = 300;
const CR = 13;
const SPACE = 32;
const HASH = 35;

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

/** Series keys learnt from earlier writes (influx-fast.ts): shared by every write. */
const fast = new FastLines();

/** Parses, maps and stores one write; resolves once its readings are committed. */
export async function writeLineProtocol(
  text: string,
  precision: Precision,
  rights: Rights,
  ingest: BatchIngest,
): Promise<InfluxWriteOutcome> {
  const w = new LineWrite(text, precision, (count) => ingest.begin(count, rights, 'influx'));
  w.readAll();
  const counters = ingest.counters;
  if (w.parseProblems > 0) counters.refused('influx', 'parse', w.parseProblems);
  if (w.noSensor > 0) counters.refused('influx', 'no_sensor', w.noSensor);
  if (w.notNumeric > 0) counters.refused('influx', 'not_numeric', w.notNumeric);
  const outcome = w.rows === null ? { stored: 0, refused: [] } : await ingest.end(w.rows, 'influx');
  const problems = w.problems;
  if (problems.length === 0) return { stored: outcome.stored, error: null };
  problems.sort((a, b) => a.number - b.number);
  const named = problems.slice(0, MAX_NAMED_LINES).map((p) => p.text);
  if (problems.length > MAX_NAMED_LINES) named.push(`and ${problems.length - MAX_NAMED_LINES} more bad lines`);
  // InfluxDB says "partial write" once anything parsed, and lists parse errors alone otherwise.
  const error = w.parsed === 0 ? named.join('\n') : `partial write: ${named.join('\n')} dropped=${outcome.refused.length}`;
  return { stored: outcome.stored, error };
}

/** One write's lines into the submit, each reading handed over as it is read. */
class LineWrite {
  rows: BatchRows | null = null;
  readonly problems: Problem[] = [];
  parsed = 0;
  parseProblems = 0;
  noSensor = 0;
  notNumeric = 0;

  constructor(
    private readonly text: string,
    private readonly precision: Precision,
    /** the submit, begun at the first reading (so a write with none is never refused as busy) */
    private readonly begin: (count: () => number) => BatchRows,
  ) {}

  readAll(): void {
    const { text, precision } = this;
    if (!fastReadable(text)) {
      parseLines(text, precision, (result, span) => this.full(result, span));
      return;
    }
    // parseLines' walk, for a text without quotes: a line ends at each newline.
    let start = 0;
    let number = 0;
    while (start < text.length) {
      number++;
      const nl = text.indexOf('\n', start);
      let end = nl === -1 ? text.length : nl;
      const next = end + 1;
      if (end > start && text.charCodeAt(end - 1) === CR) end--;
      let s = start;
      while (s < end && text.charCodeAt(s) === SPACE) s++;
      if (s < end && text.charCodeAt(s) !== HASH && !this.fastLine(s, end, number))
        this.full(parseLine(text, s, end, precision), { start: s, end, number });
      start = next;
    }
  }

  /** A line the fast reader takes: its readings handed over; false if it must go the full way. */
  private fastLine(s: number, e: number, number: number): boolean {
    const info = fast.read(this.text, s, e, this.precision);
    if (info === null) return false;
    this.parsed++;
    const rows = this.rows ?? this.start();
    const ts = Number.isNaN(fields.tsMs) ? undefined : fields.tsMs;
    for (let k = 0; k < fields.n; k++) {
      const refusal = rows.add(info.sensor, info.room, fast.metric(info, this.text, k), fields.value[k]!, undefined, ts);
      if (refusal !== null) this.refused(s, e, number, fast.fieldKey(this.text, k), refusal);
    }
    return true;
  }

  /** A line read by the full parser (influx-line.ts). */
  private full(result: LineResult, span: LineSpan): void {
    const { text } = this;
    if (!result.ok) {
      this.parseProblems++;
      this.problems.push({ number: span.number, text: `unable to parse '${shown(text, span.start, span.end)}': ${result.reason}` });
      return;
    }
    this.parsed++;
    const p = result.point;
    const sensor = tag(p, 'sensor') ?? tag(p, 'host');
    if (sensor === undefined) {
      this.noSensor++;
      this.problems.push({
        number: span.number,
        text: `unable to map '${shown(text, span.start, span.end)}': no sensor: tag the point with sensor=<id> (or host=<id>)`,
      });
      return;
    }
    const room = tag(p, 'room');
    const ts = p.tsMs ?? undefined;
    for (const f of p.fields) {
      if (f.kind === 'string' || f.kind === 'boolean') {
        this.notNumeric++;
        continue;
      }
      const metric = metricName(f.key === 'value' ? p.measurement : `${p.measurement}_${f.key}`);
      const refusal = (this.rows ?? this.start()).add(sensor, room, metric, f.value, undefined, ts);
      if (refusal !== null) this.refused(span.start, span.end, span.number, f.key, refusal);
    }
  }

  private refused(s: number, e: number, number: number, field: string, reason: string): void {
    this.problems.push({ number, text: `refused '${shown(this.text, s, e)}' field ${field}: ${reason}` });
  }

  /** The submit, at the first reading; refused whole (503) when the hub cannot take it. */
  private start(): BatchRows {
    this.rows = this.begin(() => countReadings(this.text, this.precision));
    return this.rows;
  }
}

/** The readings a write holds (numeric fields of lines with a sensor): counted only when the hub refuses it whole. */
function countReadings(text: string, precision: Precision): number {
  let n = 0;
  parseLines(text, precision, (result) => {
    if (!result.ok || (tag(result.point, 'sensor') ?? tag(result.point, 'host')) === undefined) return;
    for (const f of result.point.fields) if (f.kind !== 'string' && f.kind !== 'boolean') n++;
  });
  return n;
}

function tag(p: LinePoint, key: string): string | undefined {
  for (const t of p.tags) if (t.key === key) return t.value;
  return undefined;
}

function shown(text: string, start: number, end: number): string {
  return end - start > MAX_SHOWN_LINE_CHARS ? `${text.slice(start, start + MAX_SHOWN_LINE_CHARS)}...` : text.slice(start, end);
}
