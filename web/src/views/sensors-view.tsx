/**
 * Every sensor the user may see, as a table: room, connected or not, last seen, address (of its
 * latest connection to the sensor port, none for upload and input sensors) and metrics. Sorted by any column (a button in its header, `aria-sort`
 * says which), filtered by text and by connection.
 */
import { useState } from 'preact/hooks';
import { now } from '../clock.ts';
import { formatAge, formatTime } from '../format.ts';
import { useFleet, type SensorView } from '../fleet.ts';
import { roomPath } from '../router.ts';

type Key = 'sensor' | 'room' | 'connected' | 'last_seen' | 'address' | 'metrics';

const COLUMNS: readonly { key: Key; label: string }[] = [
  { key: 'sensor', label: 'Sensor' },
  { key: 'room', label: 'Room' },
  { key: 'connected', label: 'Connection' },
  { key: 'last_seen', label: 'Last seen' },
  { key: 'address', label: 'Address' },
  { key: 'metrics', label: 'Metrics' },
];

/** Where its latest connection to the sensor port came from; '' for a sensor that never connected there (or an older hub). */
function addressOf(v: SensorView): string {
  return v.info.address ?? '';
}

/** The last time the page knows of: the hub's last_seen, or a newer reading's. */
function lastSeen(v: SensorView): number | null {
  let t = v.info.last_seen;
  for (const r of v.latest.values()) t = t === null ? r.ts : Math.max(t, r.ts);
  return t;
}

function sortValue(v: SensorView, key: Key): string | number {
  switch (key) {
    case 'connected':
      return v.info.connected ? 1 : 0;
    case 'last_seen':
      return lastSeen(v) ?? 0;
    case 'address':
      return addressOf(v);
    case 'metrics':
      return v.info.metrics.join(',');
    default:
      return v.info[key];
  }
}

export function SensorsView() {
  const fleet = useFleet();
  void fleet.version.value;
  const t = now.value;
  const [sortKey, setSortKey] = useState<Key>('sensor');
  const [ascending, setAscending] = useState(true);
  const [text, setText] = useState('');
  const [connection, setConnection] = useState<'any' | 'connected' | 'disconnected'>('any');

  const needle = text.trim().toLowerCase();
  const rows = [...fleet.sensors.values()]
    .filter((v) => connection === 'any' || v.info.connected === (connection === 'connected'))
    .filter((v) => !needle || [v.info.sensor, v.info.room, addressOf(v), ...v.info.metrics].some((s) => s.toLowerCase().includes(needle)))
    .sort((a, b) => {
      const x = sortValue(a, sortKey);
      const y = sortValue(b, sortKey);
      const c = x < y ? -1 : x > y ? 1 : a.info.sensor < b.info.sensor ? -1 : 1;
      return ascending ? c : -c;
    });
  const sortBy = (key: Key): void => {
    if (key === sortKey) setAscending(!ascending);
    else {
      setSortKey(key);
      setAscending(true);
    }
  };

  return (
    <section aria-labelledby="sensors-title">
      <h1 id="sensors-title">Sensors</h1>
      <div class="filters">
        <label>
          Filter <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="sensor, room, metric" />
        </label>
        <label>
          Connection{' '}
          <select value={connection} onChange={(e) => setConnection(e.currentTarget.value as typeof connection)}>
            <option value="any">any</option>
            <option value="connected">connected</option>
            <option value="disconnected">disconnected</option>
          </select>
        </label>
        <span class="hint" aria-live="polite">
          {rows.length} of {fleet.sensors.size} sensors
        </span>
      </div>
      <div class="table-scroll">
        <table class="sensors-table">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} scope="col" aria-sort={sortKey === c.key ? (ascending ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{sortKey === c.key ? (ascending ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => {
              const seen = lastSeen(v);
              return (
                <tr key={v.info.sensor}>
                  <th scope="row">{v.info.sensor}</th>
                  <td>
                    <a href={roomPath(v.info.room)}>{v.info.room}</a>
                  </td>
                  <td>
                    <span class={`badge ${v.info.connected ? 'connected' : 'disconnected'}`}>
                      {v.info.connected ? 'connected' : 'disconnected'}
                    </span>
                  </td>
                  <td title={seen === null ? '' : formatTime(seen)}>{seen === null ? 'never' : formatAge(t - seen)}</td>
                  <td>{addressOf(v) || '—'}</td>
                  <td>{v.info.metrics.join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
