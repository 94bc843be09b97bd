import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { enc, patch } from '../../lib/api';
import { useAction } from '../../lib/useAction';
import { ActionError } from '../../components/States';
import { versionHref } from '../models/links';
import { percent, shares, STATE_CLASS, type Deployment } from './serving';

function LoadState({ d, name, version }: { d: Deployment; name: string; version: number }) {
  const s = d.status?.find((x) => x.name === name && x.version === version);
  const state = s?.state ?? 'absent';
  return (
    <span className={`badge ${STATE_CLASS[state] ?? ''}`} title={s?.error ?? (state === 'absent' ? 'not loaded yet: it loads at the first request' : undefined)}>
      {state === 'absent' ? 'not loaded' : state}
    </span>
  );
}

/** The weights of the targets, as numbers; saving makes a new revision. */
function EditWeights({ d, onSaved, onCancel }: { d: Deployment; onSaved: () => void; onCancel: () => void }) {
  const [weights, setWeights] = useState(() => d.config.targets.map((t) => String(t.weight)));
  const [reason, setReason] = useState('');
  const { busy, error, run } = useAction();
  const parsed = weights.map((w) => Number(w));
  const valid = weights.every((w) => w.trim() !== '') && parsed.every((w) => Number.isFinite(w) && w >= 0) && parsed.some((w) => w > 0);
  const preview = valid ? shares(parsed.map((weight) => ({ weight }))) : [];
  const save = (e: FormEvent) => {
    e.preventDefault();
    const targets = d.config.targets.map((t, i) => ({ model: t.model, weight: parsed[i] ?? t.weight }));
    void run('weights', () => patch(`/deployments/${enc(d.name)}`, { targets, ...(reason.trim() ? { reason: reason.trim() } : {}) })).then((ok) => ok && onSaved());
  };
  return (
    <form className="deploy-form" aria-label="Edit weights" onSubmit={save}>
      <div className="form-row">
        {d.config.targets.map((t, i) => {
          const r = d.resolved.targets[i];
          const label = r ? `${r.name}/${r.version}` : t.model;
          return (
            <label key={i} className="field">
              <span>
                {label} {preview[i] !== undefined && <span className="muted">({percent(preview[i])})</span>}
              </span>
              <input
                className="weight-input"
                type="number"
                min={0}
                step="any"
                aria-label={`Weight of ${label}`}
                value={weights[i] ?? ''}
                onChange={(e) => setWeights((ws) => ws.map((w, j) => (j === i ? e.target.value : w)))}
              />
            </label>
          );
        })}
        <label className="field grow">
          <span>Reason</span>
          <input aria-label="Reason for the change" value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
        </label>
        <button className="primary" type="submit" disabled={!valid || busy !== null}>
          Save weights
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ActionError error={error} />
    </form>
  );
}

/** Which versions get the traffic (each target's share, its load state here) and the shadow's copy of it. */
export function Traffic({ d, onChanged }: { d: Deployment; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const s = shares(d.resolved.targets);
  return (
    <section className="card" aria-labelledby="deployment-traffic">
      <div className="panel-head">
        <h2 id="deployment-traffic">Traffic</h2>
        {!editing && <button onClick={() => setEditing(true)}>Edit weights</button>}
      </div>
      <div className="traffic-bar" aria-hidden="true">
        {d.resolved.targets.map((t, i) => (
          <span key={i} style={{ width: `${(s[i] ?? 0) * 100}%` }} title={`${t.name}/${t.version}`} />
        ))}
      </div>
      <table className="data-table full" aria-label="Traffic">
        <thead>
          <tr>
            <th>Version</th>
            <th>Role</th>
            <th className="num">Share</th>
            <th>Follows</th>
            <th>Here</th>
          </tr>
        </thead>
        <tbody>
          {d.resolved.targets.map((t, i) => (
            <tr key={`t${i}`}>
              <td>
                <Link to={versionHref(t.name, t.version)}>
                  {t.name}/{t.version}
                </Link>
              </td>
              <td>{i === 0 ? 'stable' : 'candidate'}</td>
              <td className="num">{percent(s[i] ?? 0)}</td>
              <td className="mono">{t.model}</td>
              <td>
                <LoadState d={d} name={t.name} version={t.version} />
              </td>
            </tr>
          ))}
          {d.resolved.shadow && (
            <tr>
              <td>
                <Link to={versionHref(d.resolved.shadow.name, d.resolved.shadow.version)}>
                  {d.resolved.shadow.name}/{d.resolved.shadow.version}
                </Link>
              </td>
              <td>shadow</td>
              <td className="num" title="the share of requests copied to the shadow (its answers are logged, never returned)">
                {percent(d.resolved.shadow.fraction)} copied
              </td>
              <td className="mono">{d.resolved.shadow.model}</td>
              <td>
                <LoadState d={d} name={d.resolved.shadow.name} version={d.resolved.shadow.version} />
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {editing && (
        <EditWeights
          key={d.revision}
          d={d}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </section>
  );
}
