/**
 * The "Report now" action (operators and admins): `POST /api/v1/report-now` for the room in view
 * or for every room the user may see, then the outcome for each sensor asked: answered (with
 * its readings), missing (no report in time) or an error it answered with.
 */
import { useState } from 'preact/hooks';
import type { ReportNowBody } from '../../../protocol/api.ts';
import { describeError, postJson } from '../api.ts';
import { formatValue, plural } from '../format.ts';
import { DataTable } from './data-table.tsx';

export interface ReportNowProps {
  /** the rooms to ask; absent: every room the user may see (the hub narrows it to theirs) */
  rooms?: readonly string[];
  label: string;
}

interface Outcome {
  sensor: string;
  outcome: 'answered' | 'missing' | 'error';
  detail: string;
}

export function outcomesOf(answer: ReportNowBody): Outcome[] {
  const out = new Map<string, Outcome>();
  for (const r of answer.readings) {
    const o = out.get(r.sensor) ?? { sensor: r.sensor, outcome: 'answered' as const, detail: '' };
    o.detail += `${o.detail ? ', ' : ''}${r.metric} ${formatValue(r.value)}${r.unit ? ` ${r.unit}` : ''}`;
    out.set(r.sensor, o);
  }
  for (const s of answer.missing) out.set(s, { sensor: s, outcome: 'missing', detail: 'no report in time' });
  for (const e of answer.errors ?? []) out.set(e.sensor, { sensor: e.sensor, outcome: 'error', detail: `${e.code} ${e.message}` });
  return [...out.values()].sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
}

export function ReportNow({ rooms, label }: ReportNowProps) {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<ReportNowBody | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setAnswer(await postJson<ReportNowBody>('/api/v1/report-now', rooms ? { room: [...rooms] } : {}));
    } catch (err) {
      setAnswer(null);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const outcomes = answer ? outcomesOf(answer) : [];
  return (
    <div class="report-now">
      <button type="button" onClick={() => void run()} disabled={busy} aria-describedby="report-now-hint">
        {busy ? 'Asking…' : 'Report now'}
      </button>
      <span id="report-now-hint" class="hint">
        {label}
      </span>
      {error && (
        <p class="problem" role="alert">
          Report now failed: {error}
        </p>
      )}
      {answer && (
        <section class="report-outcome" aria-label="Report now outcome" aria-live="polite">
          <p>
            Asked {plural(answer.requested, 'sensor')}: {answer.responded} answered, {answer.missing.length} missing
            {answer.errors?.length ? `, ${plural(answer.errors.length, 'error')}` : ''}.
          </p>
          <DataTable label="Outcome per sensor" columns={['Sensor', 'Outcome', 'Detail']}>
            {outcomes.map((o) => (
              <tr key={o.sensor}>
                <th scope="row">{o.sensor}</th>
                <td>
                  <span class={`badge ${o.outcome}`}>{o.outcome}</span>
                </td>
                <td>{o.detail}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      )}
    </div>
  );
}
