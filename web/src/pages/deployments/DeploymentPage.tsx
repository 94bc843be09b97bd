import { Link, useNavigate, useParams } from 'react-router-dom';
import { del, enc, get } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { usePoll } from '../../lib/usePoll';
import { useAction } from '../../lib/useAction';
import { ActionError, ErrorState, Loading } from '../../components/States';
import { History } from './History';
import { LIVE_INTERVAL_MS, LiveFigures } from './LiveFigures';
import { Payloads } from './Payloads';
import { Traffic } from './Traffic';
import { mlflowUrl, oipUrl, overallState, percent, STATE_CLASS, type Deployment, type DeploymentConfig } from './serving';
import '../models/registry.css';
import './deployments.css';

/** Batching, payload logging, sessions and threads, the canary guard and sticky routing in force. */
function Configuration({ c }: { c: DeploymentConfig }) {
  const b = c.batching;
  const g = c.guard;
  return (
    <section className="card" aria-labelledby="deployment-configuration">
      <h2 id="deployment-configuration" className="panel-title">
        Configuration
      </h2>
      <dl className="kv">
        <dt>Batching</dt>
        <dd>{b.enabled ? `up to ${b.max_batch_size} rows, waits ≤ ${b.max_queue_delay_ms} ms; queue ${b.max_queue_size}, timeout ${b.timeout_ms} ms` : 'off'}</dd>
        <dt>Payload log</dt>
        <dd aria-label="Payload log sample rate">{c.payload_log.sample_rate === 0 ? 'off' : `${percent(c.payload_log.sample_rate)} of requests`}</dd>
        <dt>Sessions</dt>
        <dd>
          {c.resources.sessions} per version, {c.resources.intra_op_threads === 0 ? "onnxruntime's default threads" : `${c.resources.intra_op_threads} threads`} each
        </dd>
        <dt>Canary guard</dt>
        <dd>
          {g
            ? [
                g.max_error_rate !== undefined ? `error rate > ${percent(g.max_error_rate)}` : null,
                g.max_p99_ms !== undefined ? `p99 > ${g.max_p99_ms} ms` : null,
              ]
                .filter(Boolean)
                .join(' or ') + ` over ${g.window_seconds}s (after ${g.min_requests} requests) takes a candidate out`
            : 'off'}
        </dd>
        <dt>Sticky header</dt>
        <dd className={c.sticky_header ? 'mono' : 'muted'}>{c.sticky_header ?? 'none'}</dd>
      </dl>
    </section>
  );
}

/** One deployment: where to send requests, its traffic, live figures, configuration, history and payload log. */
export default function DeploymentPage() {
  const name = useParams().name!;
  const navigate = useNavigate();
  // Asked again with the live figures: the load states change, and so may the revision (an alias moved, the guard tripped).
  const dep = usePoll((signal) => get<{ deployment: Deployment }>(`/deployments/${enc(name)}`, undefined, signal).then((r) => r.deployment), LIVE_INTERVAL_MS, [name]);
  const { busy, error, run } = useAction();

  if (!dep.data) return dep.error ? <ErrorState error={dep.error} retry={dep.reload} /> : <Loading what="Loading the deployment" />;
  const d = dep.data;
  const state = overallState(d.status);
  const remove = () => {
    if (!window.confirm(`Delete the deployment "${d.name}", its history and its payload log? Clients calling it get 404 from now on.`)) return;
    void run('delete', () => del(`/deployments/${enc(d.name)}`)).then((ok) => ok && void navigate('/deployments'));
  };
  return (
    <div>
      <div className="crumbs">
        <Link to="/deployments">Deployments</Link> /
      </div>
      <div className="page-head">
        <h1>{d.name}</h1>
        <span className={`badge ${STATE_CLASS[state] ?? ''}`}>{state}</span>
        <span className="badge" title="project">
          {d.project}
        </span>
        <span className="muted">revision {d.revision}</span>
        <span className="grow" />
        <span className="muted" title={formatTime(d.last_update_time)}>
          updated {formatAgo(d.last_update_time)}, created by {d.created_by}
        </span>
        <button className="danger" onClick={remove} disabled={busy !== null}>
          Delete deployment
        </button>
      </div>
      {d.description && <p>{d.description}</p>}
      <ActionError error={error} />
      {dep.error && (
        <p className="error-text" role="alert">
          {dep.error.message}
        </p>
      )}
      <dl className="kv deploy-urls" aria-label="Endpoints">
        <dt>Open Inference Protocol</dt>
        <dd>
          <code>POST {oipUrl(d.name)}</code>
        </dd>
        <dt>MLflow scoring</dt>
        <dd>
          <code>POST {mlflowUrl(d.name)}</code>
        </dd>
      </dl>
      <div className="grid2">
        <Traffic d={d} onChanged={dep.reload} />
        <Configuration c={d.config} />
      </div>
      <LiveFigures name={d.name} />
      <History name={d.name} current={d.revision} onChanged={dep.reload} />
      <Payloads name={d.name} />
    </div>
  );
}
