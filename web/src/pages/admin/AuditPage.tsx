import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { get } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useSession } from '../../lib/session';
import { Empty, ErrorState, Loading } from '../../components/States';
import type { AuditEntry, AuditPage as Page } from '../../../../packages/sdk/src/contract/audit-schemas';

const FILTERS = ['actor', 'action', 'resource_type', 'resource_id', 'outcome', 'since', 'until'] as const;
type Filter = (typeof FILTERS)[number];

/** `datetime-local` values (local time) ↔ ms since the epoch. */
const toMs = (v: string) => (v === '' ? undefined : new Date(v).getTime());
const details = (d: Record<string, unknown>) => {
  const s = JSON.stringify(d);
  return s === '{}' ? '' : s;
};

/** Server admins: the audit log, newest first, filtered by actor, action, resource, outcome and time; pages of 100. */
export default function AuditPage() {
  const { session } = useSession();
  const [params, setParams] = useSearchParams();
  const applied = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>;
  const [form, setForm] = useState(applied);
  const key = FILTERS.map((f) => applied[f]).join('\u0000');
  useEffect(() => setForm(applied), [key]);
  const query = (token?: string) => ({
    actor: applied.actor || undefined,
    action: applied.action || undefined,
    resource_type: applied.resource_type || undefined,
    resource_id: applied.resource_id || undefined,
    outcome: applied.outcome || undefined,
    since: toMs(applied.since),
    until: toMs(applied.until),
    max_results: 100,
    page_token: token,
  });
  const first = useApi((signal) => get<Page>('/audit', query(), signal), [key]);
  const [more, setMore] = useState<{ entries: AuditEntry[]; next?: string; error?: Error; loading: boolean }>({ entries: [], loading: false });
  useEffect(() => setMore({ entries: [], loading: false }), [first.data]);
  const next = more.entries.length > 0 ? more.next : first.data?.next_page_token;
  const loadMore = async () => {
    if (!next) return;
    setMore((m) => ({ ...m, loading: true }));
    try {
      const page = await get<Page>('/audit', query(next));
      setMore((m) => ({ entries: [...m.entries, ...page.entries], next: page.next_page_token, loading: false }));
    } catch (e) {
      setMore((m) => ({ ...m, loading: false, error: e instanceof Error ? e : new Error(String(e)) }));
    }
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const f of FILTERS) if (form[f].trim() !== '') p.set(f, form[f].trim());
    setParams(p);
  };
  const input = (f: Filter, label: string, placeholder = '', type = 'text') => (
    <label className="field">
      <span>{label}</span>
      <input name={f} type={type} placeholder={placeholder} value={form[f]} onChange={(e) => setForm({ ...form, [f]: e.target.value })} />
    </label>
  );

  if (!session.admin) return <Empty>Only server admins read the audit log.</Empty>;
  const entries = [...(first.data?.entries ?? []), ...more.entries];
  return (
    <div>
      <h1>Audit log</h1>
      <form className="card form-row" onSubmit={apply} aria-label="Filter the audit log">
        {input('actor', 'Actor', 'ana')}
        {input('action', 'Action', 'auth.*')}
        {input('resource_type', 'Resource type', 'user')}
        {input('resource_id', 'Resource id')}
        <label className="field">
          <span>Outcome</span>
          <select name="outcome" value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="denied">denied</option>
            <option value="failed">failed</option>
          </select>
        </label>
        {input('since', 'Since', '', 'datetime-local')}
        {input('until', 'Until', '', 'datetime-local')}
        <button className="primary" type="submit">
          Apply
        </button>
        <button type="button" onClick={() => setParams(new URLSearchParams())}>
          Clear
        </button>
      </form>
      {first.error ? (
        <ErrorState error={first.error} retry={first.reload} />
      ) : !first.data ? (
        <Loading />
      ) : entries.length === 0 ? (
        <Empty>No entries match.</Empty>
      ) : (
        <>
          <table className="data-table full audit-table" aria-label="Audit entries">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Actor</th>
                <th>How</th>
                <th>Action</th>
                <th>Resource</th>
                <th>Outcome</th>
                <th>Source</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td className="mono">{e.seq}</td>
                  <td className="nowrap">{formatTime(e.time)}</td>
                  <td>
                    {e.actor} {e.actor_kind !== 'user' && <span className="muted">({e.actor_kind})</span>}
                  </td>
                  <td>{e.auth_method}</td>
                  <td className="mono">{e.action}</td>
                  <td className="mono">{e.resource_type ? `${e.resource_type}:${e.resource_id ?? ''}` : ''}</td>
                  <td>
                    <span className={e.outcome === 'ok' ? 'badge ok' : e.outcome === 'denied' ? 'badge warn' : 'badge bad'}>{e.outcome}</span>
                  </td>
                  <td className="mono">{e.source ?? ''}</td>
                  <td className="mono details" title={details(e.details)}>
                    {details(e.details)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {more.error && <div className="error-text">{more.error.message}</div>}
          {next && (
            <button onClick={() => void loadMore()} disabled={more.loading}>
              {more.loading ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </div>
  );
}
