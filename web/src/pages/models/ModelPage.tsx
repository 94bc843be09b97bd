import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError, enc, get, patch, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import type { AliasPolicy, ModelEvent, ModelVersion, PromotionRequest, RegisteredModel } from '../../../../src/registry/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Tabs, useUrlTab } from '../../components/UrlState';
import { Markdown } from './Markdown';
import { Gates, STATUS_CLASS } from './Gates';
import { runHref, versionHref } from './links';
import { VersionStatus } from './VersionStatus';
import './registry.css';

const TABS = [
  ['versions', 'Versions'],
  ['policy', 'Promotion policy'],
  ['history', 'History'],
  ['promotions', 'Promotions'],
] as const;

/** A registered model: description (Markdown, editable), tags, aliases; tabs for versions, policy, history and promotions (tab in the URL). */
export default function ModelPage() {
  const { name = '' } = useParams();
  const [tab, setTab] = useUrlTab(TABS);
  const model = useApi((signal) => get<{ model: RegisteredModel }>(`/models/${enc(name)}`, undefined, signal).then((r) => r.model), [name]);

  if (model.error) return <ErrorState error={model.error} retry={model.reload} />;
  if (!model.data) return <Loading what="Loading model" />;
  const m = model.data;
  const aliases = Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b));
  const tags = Object.entries(m.tags);
  return (
    <div>
      <div className="crumbs">
        <Link to="/models">Models</Link> /
      </div>
      <div className="page-head">
        <h1>{m.name}</h1>
        {aliases.map(([a, v]) => (
          <Link key={a} to={versionHref(m.name, v)} className="badge alias" title={`@${a} → version ${v}`}>
            @{a} → v{v}
          </Link>
        ))}
        <span className="grow" />
        <span className="muted" title={formatTime(m.last_update_time)}>
          updated {formatAgo(m.last_update_time)}
          {m.user_id ? ` · created by ${m.user_id}` : ''}
        </span>
      </div>
      <div className="grid2" style={{ gridTemplateColumns: '2fr 1fr' }}>
        <Description model={m} onSaved={model.reload} />
        <section className="card" aria-label="Tags">
          <h2 style={{ marginTop: 0 }}>Tags</h2>
          {tags.length === 0 ? (
            <span className="muted">No tags.</span>
          ) : (
            <dl className="kv">
              {tags.map(([k, v]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt className="mono">{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
      </div>
      <Tabs tabs={TABS} current={tab} onSelect={setTab} label="Model sections" />
      <div role="tabpanel">
        {tab === 'versions' && <Versions name={m.name} />}
        {tab === 'policy' && <Policies name={m.name} />}
        {tab === 'history' && <History name={m.name} />}
        {tab === 'promotions' && <Promotions name={m.name} onChange={model.reload} />}
      </div>
    </div>
  );
}

function Description({ model, onSaved }: { model: RegisteredModel; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(model.description ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await patch(`/models/${enc(model.name)}`, { description: text });
      setEditing(false);
      onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="Description">
      <div className="row">
        <h2 className="grow" style={{ marginTop: 0 }}>
          Description
        </h2>
        {!editing && (
          <button
            onClick={() => {
              setText(model.description ?? '');
              setEditing(true);
            }}
          >
            Edit description
          </button>
        )}
      </div>
      {editing ? (
        <div>
          <textarea className="md-edit" aria-label="Description (Markdown)" value={text} onChange={(e) => setText(e.target.value)} autoFocus />
          {error && (
            <p className="error-text" role="alert">
              {error}
            </p>
          )}
          <div className="row" style={{ marginTop: 6 }}>
            <button className="primary" onClick={() => void save()} disabled={busy}>
              Save
            </button>
            <button onClick={() => setEditing(false)} disabled={busy}>
              Cancel
            </button>
            <span className="muted">Markdown</span>
          </div>
        </div>
      ) : model.description ? (
        <Markdown source={model.description} label="Model description" />
      ) : (
        <span className="muted">No description.</span>
      )}
    </section>
  );
}

function Versions({ name }: { name: string }) {
  const list = useApi((signal) => get<{ versions: ModelVersion[] }>(`/models/${enc(name)}/versions`, { max_results: 500 }, signal), [name]);
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="Loading versions" />;
  if (list.data.versions.length === 0) return <Empty>No versions yet.</Empty>;
  return (
    <table className="data-table" style={{ width: '100%' }} aria-label="Versions">
      <thead>
        <tr>
          <th>Version</th>
          <th>Status</th>
          <th>Aliases</th>
          <th>Servable</th>
          <th>Source run</th>
          <th>Stage</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {list.data.versions.map((v) => (
          <tr key={v.version}>
            <td>
              <Link to={versionHref(name, v.version)}>v{v.version}</Link>
            </td>
            <td>
              <VersionStatus v={v} always />
              {v.status === 'FAILED_REGISTRATION' && v.status_message && <div className="muted version-message">{v.status_message}</div>}
            </td>
            <td>
              {v.aliases.map((a) => (
                <span key={a} className="badge alias" style={{ marginRight: 4 }}>
                  @{a}
                </span>
              ))}
            </td>
            <td>{v.servable ? <span className="badge ok">servable</span> : <span className="muted">no</span>}</td>
            <td className="mono">{v.run_id ? <Link to={runHref(v.run_id)}>{v.run_id.slice(0, 12)}</Link> : <span className="muted">—</span>}</td>
            <td>{v.stage}</td>
            <td title={formatTime(v.creation_time)}>{formatAgo(v.creation_time)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Policies({ name }: { name: string }) {
  const list = useApi(
    (signal) => get<{ policies: AliasPolicy[] }>(`/models/${enc(name)}/policies`, undefined, signal),
    [name],
  );
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="Loading policies" />;
  if (list.data.policies.length === 0)
    return (
      <Empty>
        No promotion policy: any version can be pointed at any alias. Set one with <code>kiln models policy set {name} production --rule &quot;metrics.val_accuracy &gt;= 0.85&quot;</code>.
      </Empty>
    );
  return (
    <div className="grid2">
      {list.data.policies.map((p) => (
        <section key={p.alias} className="card" aria-label={`Policy for @${p.alias}`}>
          <h2 style={{ marginTop: 0 }}>
            Promotion to <span className="badge alias">@{p.alias}</span>
          </h2>
          {p.policy.description && <p>{p.policy.description}</p>}
          <dl className="kv">
            <dt>Rules</dt>
            <dd>
              {p.policy.rules.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {p.policy.rules.map((r) => (
                    <li key={r}>
                      <code>{r}</code>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
            <dt>Training data validated</dt>
            <dd>{p.policy.require_data_validation ? 'required' : 'not required'}</dd>
            <dt>Approval</dt>
            <dd>{p.policy.require_approval ? 'required (by another user)' : 'not required'}</dd>
            <dt>Updated</dt>
            <dd>
              {formatTime(p.update_time)}
              {p.updated_by ? ` by ${p.updated_by}` : ''}
            </dd>
          </dl>
        </section>
      ))}
    </div>
  );
}

const EVENT_LABEL: Record<string, string> = {
  model_created: 'Model created',
  model_renamed: 'Renamed',
  version_created: 'Version registered',
  version_ready: 'Version ready',
  version_failed: 'Registration failed',
  version_deleted: 'Version deleted',
  stage_transitioned: 'Stage changed',
  alias_set: 'Alias moved',
  alias_deleted: 'Alias removed',
  promotion_requested: 'Promotion requested',
  promotion_approved: 'Promotion approved',
  promotion_rejected: 'Promotion rejected',
};

function History({ name }: { name: string }) {
  const list = useApi((signal) => get<{ events: ModelEvent[] }>(`/models/${enc(name)}/history`, { max_results: 1000 }, signal), [name]);
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="Loading history" />;
  if (list.data.events.length === 0) return <Empty>No history yet.</Empty>;
  const events = [...list.data.events].sort((a, b) => b.id - a.id);
  return (
    <ol className="timeline" aria-label="History">
      {events.map((e) => {
        const d = e.details ?? {};
        const prev = d.previous_version;
        const gates = Array.isArray(d.gates) ? (d.gates as { gate: string; passed: boolean; message: string }[]) : [];
        return (
          <li key={e.id} data-kind={e.kind}>
            <span className="muted" title={formatTime(e.time)}>
              {formatTime(e.time)}
            </span>
            <span>
              <span className={e.kind === 'promotion_rejected' || e.kind === 'version_failed' ? 'badge bad' : e.kind === 'alias_set' || e.kind === 'promotion_approved' ? 'badge ok' : 'badge'}>
                {EVENT_LABEL[e.kind] ?? e.kind}
              </span>
            </span>
            <span>
              {e.alias && <span className="badge alias">@{e.alias}</span>}{' '}
              {e.version !== null && e.version !== undefined && (
                <>
                  {e.kind === 'alias_set' ? '→ ' : ''}
                  <Link to={versionHref(name, e.version)}>v{e.version}</Link>
                </>
              )}
              {typeof prev === 'number' && <span className="muted"> (was v{prev})</span>}
              {e.actor && <span className="muted"> by {e.actor}</span>}
              {e.reason && <span> — {e.reason}</span>}
              {gates.some((g) => !g.passed) && (
                <span className="error-text">
                  {' '}
                  · failed: {gates.filter((g) => !g.passed).map((g) => g.gate).join(', ')}
                </span>
              )}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function Promotions({ name, onChange }: { name: string; onChange: () => void }) {
  const list = useApi((signal) => get<{ requests: PromotionRequest[] }>(`/models/${enc(name)}/promotions`, undefined, signal), [name]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (r: PromotionRequest, what: 'approve' | 'reject') => {
    const reason = window.prompt(what === 'approve' ? `Approve promoting v${r.version} to @${r.alias}? Reason (optional)` : `Reject promoting v${r.version} to @${r.alias}: why?`);
    if (reason === null) return;
    setBusy(true);
    setError(null);
    try {
      await post(`/models/${enc(name)}/promotions/${r.id}/${what}`, reason ? { reason } : {});
      list.reload();
      onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="Loading promotions" />;
  if (list.data.requests.length === 0) return <Empty>No promotion requests yet. Promote from a version&apos;s page.</Empty>;
  return (
    <div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {list.data.requests.map((r) => (
        <section key={r.id} className="card" style={{ marginBottom: 10 }} aria-label={`Promotion request ${r.id}`}>
          <div className="row">
            <strong>
              #{r.id}: <Link to={versionHref(name, r.version)}>v{r.version}</Link> → <span className="badge alias">@{r.alias}</span>
            </strong>
            <span className={`badge ${STATUS_CLASS[r.status] ?? ''}`}>{r.status}</span>
            <span className="grow muted">
              requested by {r.requested_by ?? 'unknown'} {formatAgo(r.request_time)}
              {r.decided_by ? ` · decided by ${r.decided_by}` : ''}
              {r.reason ? ` · ${r.reason}` : ''}
            </span>
            {r.status === 'PENDING_APPROVAL' && (
              <>
                <button className="primary" disabled={busy} onClick={() => void decide(r, 'approve')}>
                  Approve
                </button>
                <button disabled={busy} onClick={() => void decide(r, 'reject')}>
                  Reject
                </button>
              </>
            )}
          </div>
          <Gates gates={r.gates} label={`Gates of request ${r.id}`} />
        </section>
      ))}
    </div>
  );
}
