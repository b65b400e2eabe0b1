/** Admin (admins only): the activity log, live (activity-feed.ts), and the users and sensor tokens to read. */
import { useEffect, useState } from 'preact/hooks';
import type { TokensBody, UsersBody } from '../../../protocol/api.ts';
import { describeError, getJson } from '../api.ts';
import { formatTime } from '../format.ts';
import { useActivity } from './activity-feed.ts';
import { DataTable } from './data-table.tsx';

function useOnce<T>(path: string): { value: T | null; error: string | null } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<T>(path).then(setValue, (err) => setError(describeError(err)));
  }, [path]);
  return { value, error };
}

export function AdminView() {
  const activity = useActivity();
  const users = useOnce<UsersBody>('/api/v1/users');
  const tokens = useOnce<TokensBody>('/api/v1/tokens');
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      <section aria-labelledby="activity-title">
        <h2 id="activity-title">
          Activity <span class="hint">{activity.live ? '(live)' : ''}</span>
        </h2>
        {activity.error && <p class="problem">{activity.error}</p>}
        <DataTable label="Activity log" columns={['Time', 'Actor', 'Address', 'Action', 'Target', 'Outcome', 'Code', 'Detail']}>
          {activity.events.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.ts)}</td>
              <td>{e.actor}</td>
              <td>{e.address}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td>
                <span class={`badge ${e.outcome}`}>{e.outcome}</span>
              </td>
              <td>{e.code}</td>
              <td>{e.detail}</td>
            </tr>
          ))}
        </DataTable>
      </section>
      <section aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        {users.error && <p class="problem">{users.error}</p>}
        <DataTable label="Users" columns={['User', 'Role', 'Rooms', 'Changed']}>
          {users.value?.users.map((u) => (
            <tr key={u.user}>
              <th scope="row">{u.user}</th>
              <td>{u.role}</td>
              <td>{u.rooms.includes('*') ? 'every room' : u.rooms.join(', ')}</td>
              <td>{formatTime(u.updated_at)}</td>
            </tr>
          ))}
        </DataTable>
      </section>
      <section aria-labelledby="tokens-title">
        <h2 id="tokens-title">Sensor tokens</h2>
        {tokens.error && <p class="problem">{tokens.error}</p>}
        <DataTable label="Sensor tokens" columns={['Id', 'Sensors', 'Rooms', 'Note', 'Created', 'Revoked']}>
          {tokens.value?.tokens.map((t) => (
            <tr key={t.id}>
              <th scope="row">{t.id}</th>
              <td>
                <code>{t.sensor}</code>
              </td>
              <td>{t.rooms.includes('*') ? 'every room' : t.rooms.join(', ')}</td>
              <td>{t.note}</td>
              <td>
                {formatTime(t.created_at)} by {t.created_by}
              </td>
              <td>{t.revoked_at === null ? 'no' : formatTime(t.revoked_at)}</td>
            </tr>
          ))}
        </DataTable>
      </section>
    </section>
  );
}
