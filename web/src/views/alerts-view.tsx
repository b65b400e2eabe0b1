/**
 * Alerts (any user, their rooms): what fires now and the recent events, from
 * `GET /api/v1/alerts` (docs/ALERTS.md). Alerts fire on stored readings, so the page asks again
 * for what came after the last event whenever the live stream brings readings (at most once a
 * second), and every 10 s besides, for what fires on the hub's tick (`for`, `no data`).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AlertEvent } from '../../../protocol/schemas/alerts.ts';
import { describeError, getJson, query } from '../api.ts';
import { formatTime, formatValue } from '../format.ts';
import { live } from '../live.ts';
import { DataTable } from './data-table.tsx';

interface AlertsAnswer {
  firing: AlertEvent[];
  events: AlertEvent[];
  last_id: number;
}

/** events kept on the page: the newest */
const MAX_EVENTS = 200;
const AFTER_READINGS_MS = 1_000;
const EVERY_MS = 10_000;

function useAlerts(): { firing: AlertEvent[]; events: AlertEvent[]; error: string | null; loaded: boolean } {
  const [firing, setFiring] = useState<AlertEvent[]>([]);
  const [events, setEvents] = useState<AlertEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    let last: number | null = null;
    let stopped = false;
    let running = false;
    let again = false;
    let soon: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const a = await getJson<AlertsAnswer>(
          `/api/v1/alerts${query(last === null ? { limit: MAX_EVENTS } : { after: last, limit: 1000 })}`,
        );
        if (stopped) return;
        last = Math.max(last ?? 0, a.last_id);
        setFiring(a.firing);
        if (a.events.length > 0) setEvents((old) => [...a.events.slice().reverse(), ...old].slice(0, MAX_EVENTS));
        setError(null);
        setLoaded(true);
      } catch (err) {
        if (!stopped) setError(describeError(err));
      } finally {
        running = false;
        if (again && !stopped) {
          again = false;
          void load();
        }
      }
    };
    const onReadings = (): void => {
      if (soon === undefined) soon = setTimeout(() => ((soon = undefined), void load()), AFTER_READINGS_MS);
    };
    void load();
    const unfollow = live.follow({ replay: 0, onReading: onReadings, onGap: onReadings });
    const timer = setInterval(() => void load(), EVERY_MS);
    return () => {
      stopped = true;
      unfollow();
      clearInterval(timer);
      clearTimeout(soon);
    };
  }, []);
  return { firing, events, error, loaded };
}

function valueOf(e: AlertEvent): string {
  if (e.value === null) return e.metric === null ? 'no data' : '–';
  return `${e.metric ?? ''} ${formatValue(e.value)}`;
}

function EventRow({ event: e, showState }: { event: AlertEvent; showState: boolean }) {
  return (
    <tr>
      <td>{formatTime(e.ts)}</td>
      <td>{e.rule}</td>
      {showState && (
        <td>
          <span class={`badge ${e.state === 'firing' ? 'failed' : 'ok'}`}>{e.state}</span>
        </td>
      )}
      <td>{e.sensor}</td>
      <td>{e.room}</td>
      <td>{valueOf(e)}</td>
      <td>
        <code>{e.condition}</code>
      </td>
    </tr>
  );
}

export function AlertsView() {
  const a = useAlerts();
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      {a.error && (
        <p class="problem" role="alert">
          {a.error}
        </p>
      )}
      <section aria-labelledby="firing-title">
        <h2 id="firing-title">Firing now</h2>
        {a.loaded && a.firing.length === 0 ? (
          <p>Nothing fires in your rooms.</p>
        ) : (
          <DataTable label="Firing now" columns={['Since', 'Rule', 'Sensor', 'Room', 'Value', 'Condition']}>
            {a.firing.map((e) => (
              <EventRow key={e.id} event={e} showState={false} />
            ))}
          </DataTable>
        )}
      </section>
      <section aria-labelledby="events-title">
        <h2 id="events-title">Recent events</h2>
        <DataTable label="Alert events" columns={['Time', 'Rule', 'State', 'Sensor', 'Room', 'Value', 'Condition']}>
          {a.events.map((e) => (
            <EventRow key={e.id} event={e} showState />
          ))}
        </DataTable>
      </section>
    </section>
  );
}
