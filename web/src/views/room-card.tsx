/**
 * A room on the overview: its name (a link to the room view), then each sensor with its latest
 * value per metric, the unit and the age; a value with no reading for several of the sensor's
 * usual intervals is marked stale, a sensor the hub has lost is marked disconnected.
 */
import { formatAge, formatValue } from '../format.ts';
import { isStale, type SensorView } from '../fleet.ts';
import { roomPath } from '../router.ts';

export function RoomCard({ room, sensors, now }: { room: string; sensors: SensorView[]; now: number }) {
  const id = `room-${room}`;
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>
        <a href={roomPath(room)}>{room}</a>
      </h2>
      {sensors.length === 0 && <p class="hint">No sensors yet.</p>}
      <ul class="sensors">
        {sensors.map((v) => (
          <SensorItem key={v.info.sensor} view={v} now={now} />
        ))}
      </ul>
    </section>
  );
}

function SensorItem({ view, now }: { view: SensorView; now: number }) {
  const readings = [...view.latest.values()].sort((a, b) => (a.metric < b.metric ? -1 : 1));
  const allStale = readings.length > 0 && readings.every((r) => isStale(view, r.ts, now));
  return (
    <li class={`sensor${view.info.connected ? '' : ' disconnected'}`}>
      <div class="sensor-head">
        <span class="sensor-name">{view.info.sensor}</span>
        {!view.info.connected && <span class="badge disconnected">disconnected</span>}
        {view.info.connected && allStale && <span class="badge stale">stale</span>}
      </div>
      {readings.length === 0 && <p class="hint">No readings yet.</p>}
      <dl class="values">
        {readings.map((r) => {
          const stale = isStale(view, r.ts, now);
          return (
            <div key={r.metric} class={`value-row${stale ? ' stale' : ''}`}>
              <dt>{r.metric}</dt>
              <dd>
                <span class="value">{formatValue(r.value)}</span>
                {r.unit && <span class="unit"> {r.unit}</span>}
                <span class="age" title={new Date(r.ts).toISOString()}>
                  {' '}
                  {formatAge(now - r.ts)}
                </span>
                {stale && <span class="badge stale">stale</span>}
              </dd>
            </div>
          );
        })}
      </dl>
    </li>
  );
}
