import { useState, type FormEvent } from 'react';
import { del, enc, get, patch, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useSession } from '../../lib/session';
import { ActionError, Empty, ErrorState, Loading } from '../../components/States';
import { useAction } from '../../lib/useAction';
import type { User } from '../../../../packages/sdk/src/contract/governance-schemas';

/** Server admins: users and service accounts; create, disable and enable, grant and revoke admin, delete. */
export default function UsersPage() {
  const { session } = useSession();
  const list = useApi((signal) => get<{ users: User[] }>('/users', undefined, signal), []);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const [service, setService] = useState(false);
  const { busy, error, run } = useAction();
  const act = (key: string, fn: () => Promise<unknown>) =>
    run(key, fn).then((ok) => {
      if (ok) list.reload();
      return ok;
    });
  const create = (e: FormEvent) => {
    e.preventDefault();
    void act('create', () => post('/users', { name: name.trim(), admin, ...(service ? { kind: 'service' } : { password }) })).then((ok) => {
      if (ok) {
        setName('');
        setPassword('');
        setAdmin(false);
        setService(false);
      }
    });
  };
  const change = (u: User, body: { admin?: boolean; disabled?: boolean }) => void act(u.name, () => patch(`/users/${enc(u.name)}`, body));
  const remove = (u: User) => {
    if (window.confirm(`Delete ${u.kind === 'service' ? 'the service account' : 'the user'} "${u.name}" and their tokens? This cannot be undone.`)) void act(u.name, () => del(`/users/${enc(u.name)}`));
  };

  if (!session.admin) return <Empty>Only server admins manage users.</Empty>;
  return (
    <div className="narrow-page">
      <h1>Users</h1>
      <form className="card form-row" onSubmit={create} aria-label="Create a user">
        <label className="field">
          <span>Name</span>
          <input name="new-user" required maxLength={128} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="new-password" type="password" autoComplete="new-password" minLength={8} disabled={service} required={!service} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={service} onChange={(e) => setService(e.target.checked)} /> service account (tokens only)
        </label>
        <label className="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> server admin
        </label>
        <button className="primary" type="submit" disabled={busy !== null || name.trim() === '' || (!service && password.length < 8)}>
          Create
        </button>
      </form>
      <ActionError error={error} />
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <table className="data-table full" aria-label="Users">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Last sign-in</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.users.map((u) => (
              <tr key={u.name} aria-label={u.name}>
                <td>
                  {u.name} {u.name === session.user && <span className="muted">(you)</span>}
                  {u.display_name && <div className="muted">{u.display_name}</div>}
                </td>
                <td>{u.kind === 'service' ? 'service account' : 'user'}</td>
                <td className="badges">
                  {u.admin && <span className="badge warn">admin</span>}
                  {u.disabled ? <span className="badge bad">disabled</span> : <span className="badge ok">active</span>}
                </td>
                <td>{u.last_login_time === null ? '—' : <span title={formatTime(u.last_login_time)}>{formatAgo(u.last_login_time)}</span>}</td>
                <td title={formatTime(u.creation_time)}>{formatAgo(u.creation_time)}</td>
                <td className="actions">
                  <button disabled={busy !== null} onClick={() => change(u, { disabled: !u.disabled })}>
                    {u.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button disabled={busy !== null} onClick={() => change(u, { admin: !u.admin })}>
                    {u.admin ? 'Revoke admin' : 'Make admin'}
                  </button>
                  <button disabled={busy !== null} onClick={() => remove(u)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
