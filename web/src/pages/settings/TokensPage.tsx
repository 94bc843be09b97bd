import { useState, type FormEvent } from 'react';
import { del, enc, get, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useSession } from '../../lib/session';
import { ActionError, Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { useAction } from '../../lib/useAction';
import type { CreatedToken, ScopeName, TokenInfo } from '../../../../packages/sdk/src/contract/governance-schemas';

const SCOPES: { scope: ScopeName; what: string }[] = [
  { scope: 'read', what: 'read what you can see' },
  { scope: 'write', what: 'create and change' },
  { scope: 'admin', what: 'server administration' },
  { scope: 'infer', what: 'inference endpoints only' },
];

function status(t: TokenInfo, now: number): { label: string; cls: string } {
  if (t.revoked_time !== null) return { label: 'revoked', cls: 'badge' };
  if (t.expiry_time !== null && t.expiry_time <= now) return { label: 'expired', cls: 'badge bad' };
  return { label: 'active', cls: 'badge ok' };
}

/** Your API tokens: list (scopes, expiry, last use), create one (shown once, with a copy button), revoke. */
export default function TokensPage() {
  const { session } = useSession();
  const list = useApi((signal) => get<{ tokens: TokenInfo[] }>('/tokens', undefined, signal), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ScopeName[]>(['read', 'write']);
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const { busy: running, error, run } = useAction();
  const busy = running !== null;

  const act = (fn: () => Promise<unknown>) =>
    run('token', fn).then((ok) => {
      if (ok) list.reload();
    });
  const create = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      const made = await post<CreatedToken>('/tokens', { name: name.trim(), scopes, ...(days === '' ? {} : { expires_in_days: Number(days) }) });
      setCreated(made);
      setName('');
    });
  };
  const revoke = (t: TokenInfo) => {
    if (window.confirm(`Revoke the token "${t.name}"? Whatever uses it stops working.`)) void act(() => del(`/tokens/${enc(t.id)}`));
  };
  const toggle = (s: ScopeName) => setScopes(scopes.includes(s) ? scopes.filter((x) => x !== s) : [...scopes, s]);
  const now = Date.now();

  if (session.auth === 'none') return <Empty>Authentication is off on this server (--auth none): API tokens are not needed.</Empty>;
  return (
    <div className="narrow-page">
      <h1>API tokens</h1>
      <p className="muted">
        Tokens let the <code>kiln</code> CLI, the SDK and MLflow clients act as <strong>{session.user}</strong> (<code>Authorization: Bearer kiln_…</code>, or{' '}
        <code>MLFLOW_TRACKING_TOKEN</code>), within their scopes.
      </p>

      {created && (
        <div className="card created-token" role="status" aria-label="New token">
          <strong>Token “{created.token_info.name}” created.</strong> Copy it now: it is shown only this once.
          <Snippet code={created.token} label="new token" />
          <button onClick={() => setCreated(null)}>Done</button>
        </div>
      )}

      <form className="card form-row" onSubmit={create} aria-label="Create a token">
        <label className="field">
          <span>Name</span>
          <input name="token-name" required maxLength={100} placeholder="laptop" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset className="field scopes">
          <legend>Scopes</legend>
          {SCOPES.filter((s) => s.scope !== 'admin' || session.admin).map((s) => (
            <label key={s.scope} title={s.what}>
              <input type="checkbox" checked={scopes.includes(s.scope)} onChange={() => toggle(s.scope)} /> {s.scope}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Expires</span>
          <select value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="7">in 7 days</option>
            <option value="30">in 30 days</option>
            <option value="90">in 90 days</option>
            <option value="365">in a year</option>
            <option value="">never</option>
          </select>
        </label>
        <button className="primary" type="submit" disabled={busy || name.trim() === '' || scopes.length === 0}>
          Create token
        </button>
      </form>
      <ActionError error={error} />

      <h2>Your tokens</h2>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.tokens.length === 0 ? (
        <Empty>No tokens yet.</Empty>
      ) : (
        <table className="data-table full" aria-label="Tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th>Scopes</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.tokens.map((t) => {
              const st = status(t, now);
              return (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td className="mono">{t.id}</td>
                  <td>{t.scopes.join(', ')}</td>
                  <td title={formatTime(t.creation_time)}>{formatAgo(t.creation_time)}</td>
                  <td>{t.expiry_time === null ? 'never' : formatTime(t.expiry_time)}</td>
                  <td>{t.last_used_time === null ? '—' : formatAgo(t.last_used_time)}</td>
                  <td>
                    <span className={st.cls}>{st.label}</span>
                  </td>
                  <td className="actions">
                    {st.label === 'active' && (
                      <button disabled={busy} onClick={() => revoke(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
