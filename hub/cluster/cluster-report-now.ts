/**
 * Report-now across hubs: the hub that gets `POST /api/v1/report-now` asks its own sensors
 * (ReportNow, unchanged) and, at the same time, every other hub over NATS request-many on
 * REPORT_NOW_SUBJECT; each answers with its own round's outcome for its own sensors. The
 * answers merge into one, and matching sensors that another live hub holds but whose hub did
 * not answer in time count as requested and `missing`, as a sensor that did not answer does.
 *
 * An answer larger than a NATS message goes in parts: the first carries the counts, the rest
 * readings; the asker waits for every part of every live hub, or for the timeout.
 */
import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { matches, type Filters } from '../../protocol/filters.ts';
import { ReportNow, type ReportNowAnswer } from '../sensors/report-now.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { REPORT_NOW_SUBJECT } from './cluster-names.ts';

export interface ClusterReportNowParts {
  nc: NatsConnection;
  hubId: string;
  /** live hubs, this one included */
  hubs(): ReadonlySet<string>;
  /** sensor -> hub, for sensors other live hubs hold */
  heldElsewhere(): Map<string, string>;
  registry: SensorRegistry;
  log: Logger;
}

interface AskMessage {
  from: string;
  filters: { sensor: string[] | null; room: string[] | null; metric: string[] | null };
  timeoutMs: number;
}

/** One part of a hub's answer: part 0 has the counts (and errors), every part some readings. */
interface AnswerPart {
  hub: string;
  part: number;
  parts: number;
  answer: Omit<ReportNowAnswer, 'id'>;
}

/** Beyond the round's own timeout: the other hub waits for its commit before answering. */
const ANSWER_GRACE_MS = 2_000;
/** Readings per part: ~150 bytes each, well under the default 1 MiB message. */
const READINGS_PER_PART = 2_000;

export class ClusterReportNow extends ReportNow {
  private cluster: ClusterReportNowParts | null = null;
  private sub: Subscription | null = null;

  /** Joins the cluster: answers other hubs' rounds, and asks them in its own. */
  attachCluster(parts: ClusterReportNowParts): void {
    this.cluster = parts;
    this.sub = parts.nc.subscribe(REPORT_NOW_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        this.answerRemote(msg).catch((e: Error) => parts.log.warn({ err: e }, 'could not answer another hub’s report-now'));
      },
    });
  }

  detachCluster(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.cluster = null;
  }

  /** This hub's own round: its own sensors only. */
  runLocal(filters: Filters, timeoutMs: number): Promise<ReportNowAnswer> {
    return super.run(filters, timeoutMs);
  }

  override async run(filters: Filters, timeoutMs: number): Promise<ReportNowAnswer> {
    const c = this.cluster;
    const others = c ? [...c.hubs()].filter((h) => h !== c.hubId) : [];
    if (!c || others.length === 0) return this.runLocal(filters, timeoutMs);
    const heldElsewhere = c.heldElsewhere();
    const [local, remote] = await Promise.all([this.runLocal(filters, timeoutMs), this.askOthers(c, filters, timeoutMs, others)]);
    const answered = new Set<string>();
    const merged: ReportNowAnswer = {
      ...local,
      missing: [...local.missing],
      readings: [...local.readings],
      errors: [...(local.errors ?? [])],
    };
    for (const [hub, a] of remote) {
      answered.add(hub);
      merged.requested += a.requested;
      merged.responded += a.responded;
      merged.missing.push(...a.missing);
      merged.readings.push(...a.readings);
      merged.errors!.push(...(a.errors ?? []));
    }
    // Held by a live hub that did not answer: asked in effect, and not heard from.
    for (const [sensor, hub] of heldElsewhere) {
      if (answered.has(hub) || !this.matching(filters, sensor)) continue;
      merged.requested++;
      merged.missing.push(sensor);
    }
    merged.missing = [...new Set(merged.missing)].sort();
    merged.readings.sort((a, b) =>
      a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
    );
    if (merged.errors!.length > 0) merged.errors!.sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
    else delete merged.errors;
    return merged;
  }

  /** Every other live hub's answer that arrived whole in time, by hub. */
  private async askOthers(
    c: ClusterReportNowParts,
    filters: Filters,
    timeoutMs: number,
    others: string[],
  ): Promise<Map<string, Omit<ReportNowAnswer, 'id'>>> {
    const ask: AskMessage = {
      from: c.hubId,
      filters: { sensor: list(filters.sensor), room: list(filters.room), metric: list(filters.metric) },
      timeoutMs,
    };
    const parts = new Map<string, AnswerPart[]>();
    const whole = new Map<string, Omit<ReportNowAnswer, 'id'>>();
    try {
      const replies = await c.nc.requestMany(REPORT_NOW_SUBJECT, JSON.stringify(ask), {
        strategy: 'timer',
        maxWait: timeoutMs + ANSWER_GRACE_MS,
      });
      for await (const m of replies) {
        const p = parsePart(m);
        if (!p || whole.has(p.hub)) continue;
        const got = parts.get(p.hub) ?? [];
        got[p.part] = p;
        parts.set(p.hub, got);
        if (got.filter(Boolean).length === p.parts) {
          whole.set(p.hub, joinParts(got));
          if (others.every((h) => whole.has(h))) break;
        }
      }
    } catch (err) {
      // No other hub listening (they all died since liveness last looked): only local answers.
      c.log.warn({ err }, 'report-now: could not ask the other hubs');
    }
    return whole;
  }

  private async answerRemote(msg: Msg): Promise<void> {
    const c = this.cluster;
    if (!c || !msg.reply) return;
    const ask = msg.json<AskMessage>();
    if (ask.from === c.hubId) return;
    const filters: Filters = { sensor: set(ask.filters?.sensor), room: set(ask.filters?.room), metric: set(ask.filters?.metric) };
    const timeoutMs = Math.max(0, Math.min(Number(ask.timeoutMs) || 0, 30_000));
    const { id: _id, ...answer } = await this.runLocal(filters, timeoutMs);
    const chunks: LatestChunk[] = [];
    for (let i = 0; i < answer.readings.length; i += READINGS_PER_PART) chunks.push(answer.readings.slice(i, i + READINGS_PER_PART));
    const parts = Math.max(1, chunks.length);
    for (let part = 0; part < parts; part++) {
      const body: AnswerPart = {
        hub: c.hubId,
        part,
        parts,
        answer:
          part === 0 ? { ...answer, readings: chunks[0] ?? [] } : { requested: 0, responded: 0, missing: [], readings: chunks[part]! },
      };
      msg.respond(JSON.stringify(body));
    }
  }

  /** Whether report-now with these filters would ask `sensor` (as ReportNow decides for its own). */
  private matching(filters: Filters, sensor: string): boolean {
    const rec = this.cluster?.registry.records.get(sensor);
    if (!rec) return filters.sensor === null || filters.sensor.has(sensor) ? filters.room === null && filters.metric === null : false;
    if (!matches({ sensor: filters.sensor, room: filters.room, metric: null }, sensor, rec.room, '')) return false;
    if (filters.metric === null) return true;
    for (const m of filters.metric) if (rec.metrics.includes(m) || m in rec.declaredMetrics) return true;
    return false;
  }
}

type LatestChunk = ReportNowAnswer['readings'];

function list(s: ReadonlySet<string> | null): string[] | null {
  return s === null ? null : [...s];
}

function set(items: unknown): ReadonlySet<string> | null {
  return Array.isArray(items) ? new Set(items.filter((x): x is string => typeof x === 'string')) : null;
}

function parsePart(m: Msg): AnswerPart | null {
  try {
    const p = m.json<AnswerPart>();
    const ok =
      typeof p.hub === 'string' &&
      Number.isInteger(p.part) &&
      Number.isInteger(p.parts) &&
      p.part >= 0 &&
      p.part < p.parts &&
      p.parts <= 10_000 &&
      Array.isArray(p.answer?.readings) &&
      Array.isArray(p.answer?.missing);
    return ok ? p : null;
  } catch {
    return null;
  }
}

function joinParts(parts: AnswerPart[]): Omit<ReportNowAnswer, 'id'> {
  const first = parts[0]!.answer;
  return { ...first, readings: parts.flatMap((p) => p.answer.readings) };
}
