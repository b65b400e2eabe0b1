/**
 * Report-now (PROTOCOL.md §2 `POST /api/v1/report-now`): sends `command` report-now to every
 * connected sensor that matches, gathers the `report`s until all have answered or the timeout
 * passes. The command line is encoded once for the whole fleet, and each write goes through
 * the session's bounded send, so a frozen sensor costs a dropped connection, not a stall.
 * Overlapping rounds each have their own id, so each gets only its own answers.
 */
import { randomBytes } from 'node:crypto';
import type { ReportNowBody } from '../../protocol/api.ts';
import { encodeLine } from '../../protocol/messages.ts';
import { matches, type Filters } from '../../protocol/filters.ts';
import type { CommandSink, SensorSession, StoredReading } from '../ingest/sensor-session.ts';
import type { SensorRegistry } from './sensor-registry.ts';
import type { LatestReading } from './latest-view.ts';

export type ReportNowAnswer = ReportNowBody;

interface Round {
  id: string;
  metrics: Filters['metric'];
  /** sensors asked and not yet answered */
  pending: Set<string>;
  requested: number;
  responded: number;
  readings: LatestReading[];
  errors: { sensor: string; code: number; message: string }[];
  finish: () => void;
}

export interface ReportNowStats {
  rounds: number;
  commandsSent: number;
  reports: number;
}

/** A report that arrives this long after its round ended is still stored, not refused with 404. */
const LATE_REPORT_MS = 10 * 60_000;

export class ReportNow implements CommandSink {
  /** by command id: rounds still gathering */
  private readonly rounds = new Map<string, Round>();
  /** by command id: when it stops being known */
  private readonly issued = new Map<string, number>();
  readonly stats: ReportNowStats = { rounds: 0, commandsSent: 0, reports: 0 };

  /** the connected sessions to ask: none until the sensor server is attached */
  private sessions: () => Iterable<SensorSession> = () => [];

  constructor(
    private readonly registry: SensorRegistry,
    private readonly now: () => number,
    /** resolves once what was received so far is committed */
    private readonly committed: () => Promise<void>,
  ) {}

  /** The sensor server takes reports from its sessions, and report-now asks them: attached once both exist. */
  attach(sessions: () => Iterable<SensorSession>): void {
    this.sessions = sessions;
  }

  async run(filters: Filters, timeoutMs: number): Promise<ReportNowAnswer> {
    this.forgetOld();
    const id = `c-${randomBytes(6).toString('hex')}`;
    // Encoded once for the whole fleet. A string: a sensor still owed an ack gets it in the same write.
    const line = encodeLine({ type: 'command', id, command: 'report-now' });
    const targets: SensorSession[] = [];
    for (const s of this.sessions()) {
      if (s.isActive && s.sensorId && this.wanted(filters, s)) targets.push(s);
    }
    this.stats.rounds++;
    this.issued.set(id, this.now() + LATE_REPORT_MS);
    const round: Round = {
      id,
      metrics: filters.metric,
      pending: new Set(),
      requested: targets.length,
      responded: 0,
      readings: [],
      errors: [],
      finish: () => {},
    };
    if (targets.length === 0) return this.answer(round);
    const done = new Promise<void>((resolve) => (round.finish = resolve));
    this.rounds.set(id, round);
    for (const s of targets) round.pending.add(s.sensorId!);
    for (const s of targets) {
      if (s.sendLine(line)) this.stats.commandsSent++;
    }
    const timer = setTimeout(() => round.finish(), timeoutMs);
    if (round.pending.size > 0) await done;
    clearTimeout(timer);
    this.rounds.delete(id);
    // The answer promises the readings are stored: wait for the commit that holds them.
    if (round.responded > 0) await this.committed();
    return this.answer(round);
  }

  isKnown(commandId: string): boolean {
    return this.rounds.has(commandId) || (this.issued.get(commandId) ?? 0) > this.now();
  }

  onReport(commandId: string, sensor: string, room: string, readings: StoredReading[]): void {
    this.stats.reports++;
    const round = this.rounds.get(commandId);
    if (!round || !round.pending.delete(sensor)) return; // late, or answered twice: stored, not counted
    round.responded++;
    for (const r of readings) {
      if (round.metrics === null || round.metrics.has(r.metric))
        round.readings.push({ sensor, room, metric: r.metric, value: r.value, unit: r.unit, ts: r.ts });
    }
    if (round.pending.size === 0) round.finish();
  }

  onSensorError(sensor: string, error: { code: number; message: string; id?: string }): void {
    if (error.id === undefined) return;
    const round = this.rounds.get(error.id);
    if (!round || !round.pending.delete(sensor)) return;
    round.errors.push({ sensor, code: error.code, message: error.message });
    if (round.pending.size === 0) round.finish();
  }

  private wanted(f: Filters, s: SensorSession): boolean {
    if (!matches({ sensor: f.sensor, room: f.room, metric: null }, s.sensorId!, s.currentRoom, '')) return false;
    if (f.metric === null) return true;
    const rec = this.registry.records.get(s.sensorId!);
    if (!rec) return false;
    for (const m of f.metric) if (rec.metrics.includes(m) || m in rec.declaredMetrics) return true;
    return false;
  }

  private answer(round: Round): ReportNowAnswer {
    const errored = new Set(round.errors.map((e) => e.sensor));
    const missing = [...round.pending, ...errored].sort();
    const readings = round.readings.sort((a, b) =>
      a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
    );
    return {
      id: round.id,
      requested: round.requested,
      responded: round.responded,
      missing,
      readings,
      ...(round.errors.length > 0 ? { errors: round.errors.sort((a, b) => (a.sensor < b.sensor ? -1 : 1)) } : {}),
    };
  }

  private forgetOld(): void {
    const now = this.now();
    for (const [id, until] of this.issued) if (until <= now) this.issued.delete(id);
  }
}
