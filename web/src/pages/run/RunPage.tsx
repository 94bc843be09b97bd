import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError, enc, get, post } from '../../lib/api';
import { formatDuration, formatTime, formatValue } from '../../lib/format';
import type { Experiment, Run } from '../../../../src/tracking/schemas';
import type { DatasetVersionDetail } from '../../../../src/data/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Tabs, useUrlTab } from '../../components/UrlState';
import { ChartControls, useChartSettings } from '../../charts/settings';
import { RunMetricChart } from '../../charts/MetricChart';
import { ArtifactsTab } from './ArtifactsTab';

const TABS = [
  ['metrics', 'Metrics'],
  ['params', 'Params'],
  ['tags', 'Tags'],
  ['artifacts', 'Artifacts'],
] as const;
const POLL_MS = 3000;

interface DatasetLink {
  name: string;
  digest: string;
  version?: { name: string; version: number };
}

/** A run: overview, metric charts (live while it runs), params, tags, artifacts with previews. */
export default function RunPage() {
  const { runId = '' } = useParams();
  const [tab, setTab] = useUrlTab(TABS);
  const [refresh, setRefresh] = useState(0);
  const run = useApi((signal) => get<{ run: Run }>(`/runs/${enc(runId)}`, undefined, signal).then((r) => r.run), [runId, refresh]);
  const running = run.data?.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setRefresh((n) => n + 1), POLL_MS);
    return () => clearInterval(t);
  }, [running]);

  const experimentId = run.data?.experiment_id;
  const exp = useApi((signal) => (experimentId ? get<{ experiment: Experiment }>(`/experiments/${enc(experimentId)}`, undefined, signal).then((r) => r.experiment) : Promise.resolve(undefined)), [experimentId]);
  const children = useApi(
    async () => {
      if (!experimentId) return [];
      const r = await post<{ runs: Run[] }>('/runs/search', { experiment_ids: [experimentId], filter: `tags.mlflow.parentRunId = '${runId.replace(/'/g, "''")}'`, max_results: 200, order_by: ['start_time DESC'] });
      return r.runs;
    },
    [experimentId, runId],
  );
  const inputs = run.data?.dataset_inputs;
  const inputKey = (inputs ?? []).map((d) => d.digest).join(',');
  const datasets = useApi(
    async (signal) =>
      Promise.all(
        (inputs ?? []).map(async (d): Promise<DatasetLink> => {
          try {
            const v = await get<{ version: DatasetVersionDetail }>(`/datasets/by-digest/${enc(d.digest)}`, undefined, signal);
            return { name: d.name, digest: d.digest, version: v.version };
          } catch (e) {
            if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return { name: d.name, digest: d.digest };
            throw e;
          }
        }),
      ),
    [inputKey],
  );

  if (run.error && !run.data) return <ErrorState error={run.error} retry={run.reload} />;
  if (!run.data) return <Loading what="Loading run" />;
  const r = run.data;
  const tags = r.tags;
  const parentId = tags['mlflow.parentRunId'];
  const commit = tags['mlflow.source.git.commit'];
  const metricKeys = Object.keys(r.metrics).sort();

  return (
    <div>
      <div className="row" style={{ marginBottom: 4 }}>
        <h1 style={{ margin: 0 }}>{r.run_name || r.run_id}</h1>
        <span className={`badge status-${r.status}`} aria-label={`Status ${r.status}`}>
          {r.status === 'RUNNING' && <span className="spinner" style={{ width: 9, height: 9, marginRight: 4 }} />}
          {r.status}
        </span>
        {r.lifecycle_stage === 'deleted' && <span className="badge bad">deleted</span>}
        <span className="grow" />
        <Link to={`/compare?runs=${enc(r.run_id)}`}>Compare…</Link>
      </div>
      <div className="muted" style={{ marginBottom: 12 }}>
        Experiment <Link to={`/experiments/${enc(r.experiment_id)}`}>{exp.data?.name ?? r.experiment_id}</Link> · <span className="mono">{r.run_id}</span>
      </div>

      <section className="card" aria-label="Overview">
        <dl className="kv" style={{ gridTemplateColumns: 'max-content 1fr max-content 1fr', margin: 0 }}>
          <dt>Started</dt>
          <dd>{formatTime(r.start_time)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(r.start_time, r.end_time)}{running ? ' (running)' : ''}</dd>
          <dt>User</dt>
          <dd>{r.user_id || tags['mlflow.user'] || '—'}</dd>
          <dt>Source</dt>
          <dd>
            {tags['mlflow.source.name'] ?? '—'}
            {tags['mlflow.source.type'] ? <span className="muted"> ({tags['mlflow.source.type']})</span> : null}
          </dd>
          <dt>Git commit</dt>
          <dd className="mono" title={commit}>
            {commit ? commit.slice(0, 12) : '—'}
            {tags['mlflow.source.git.branch'] ? <span className="muted"> on {tags['mlflow.source.git.branch']}</span> : null}
          </dd>
          <dt>Parent run</dt>
          <dd>{parentId ? <Link to={`/runs/${enc(parentId)}`}>{parentId}</Link> : '—'}</dd>
          <dt>Child runs</dt>
          <dd>
            {children.error ? (
              <span className="error-text">{children.error.message}</span>
            ) : !children.data ? (
              '…'
            ) : children.data.length === 0 ? (
              '—'
            ) : (
              <span aria-label="Child runs">
                {children.data.map((c, i) => (
                  <span key={c.run_id}>
                    {i > 0 && ', '}
                    <Link to={`/runs/${enc(c.run_id)}`}>{c.run_name || c.run_id}</Link>
                  </span>
                ))}
                {children.data.length > 1 && (
                  <>
                    {' · '}
                    <Link to={`/compare?runs=${children.data.map((c) => enc(c.run_id)).join(',')}`}>compare children</Link>
                  </>
                )}
              </span>
            )}
          </dd>
          <dt>Datasets</dt>
          <dd>
            {(inputs ?? []).length === 0
              ? '—'
              : datasets.data
                ? datasets.data.map((d, i) => (
                    <span key={d.digest + i}>
                      {i > 0 && ', '}
                      {d.version ? (
                        <Link to={`/datasets/${enc(d.version.name)}/versions/${d.version.version}`}>
                          {d.version.name}@v{d.version.version}
                        </Link>
                      ) : (
                        <span title={`digest ${d.digest} (not a Kiln dataset version)`}>
                          {d.name} <span className="muted mono">{d.digest.slice(0, 8)}</span>
                        </span>
                      )}
                    </span>
                  ))
                : '…'}
          </dd>
        </dl>
      </section>

      <Tabs
        tabs={TABS.map(([t, title]) => [t, <>{title}<span className="muted"> {t === 'metrics' ? metricKeys.length : t === 'params' ? Object.keys(r.params).length : t === 'tags' ? Object.keys(r.tags).length : ''}</span></>] as const)}
        current={tab}
        onSelect={setTab}
        label="Run sections"
      />
      {tab === 'metrics' && <MetricsTab run={r} keys={metricKeys} refresh={refresh} />}
      {tab === 'params' && <KeyValueTable label="Params" entries={Object.entries(r.params)} empty="No params logged." />}
      {tab === 'tags' && <TagsTab tags={r.tags} />}
      {tab === 'artifacts' && <ArtifactsTab runId={r.run_id} />}
    </div>
  );
}

function MetricsTab({ run, keys, refresh }: { run: Run; keys: string[]; refresh: number }) {
  const [settings, update] = useChartSettings();
  const [filter, setFilter] = useState('');
  if (keys.length === 0) return <Empty>No metrics logged{run.status === 'RUNNING' ? ' yet; this page updates while the run is running' : ''}.</Empty>;
  const shown = keys.filter((k) => k.toLowerCase().includes(filter.toLowerCase()));
  return (
    <div>
      <div className="row">
        <ChartControls settings={settings} onChange={update} />
        <span className="grow" />
        {keys.length > 4 && <input type="search" placeholder="Filter metrics" aria-label="Filter metrics" value={filter} onChange={(e) => setFilter(e.target.value)} />}
      </div>
      <div className="chart-grid">
        {shown.map((k) => (
          <RunMetricChart key={k} runId={run.run_id} metricKey={k} settings={settings} t0Ms={run.start_time} refresh={refresh} />
        ))}
      </div>
      <h2>Latest values</h2>
      <KeyValueTable label="Latest metric values" entries={keys.map((k) => [k, `${formatValue(run.metrics[k]!.value)}  (step ${run.metrics[k]!.step})`])} empty="" />
    </div>
  );
}

function KeyValueTable({ label, entries, empty }: { label: string; entries: [string, string][]; empty: string }) {
  const [q, setQ] = useState('');
  if (entries.length === 0) return <Empty>{empty}</Empty>;
  const shown = entries.filter(([k, v]) => !q || k.toLowerCase().includes(q.toLowerCase()) || v.toLowerCase().includes(q.toLowerCase())).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div>
      {entries.length > 10 && <input type="search" placeholder="Filter" aria-label={`Filter ${label.toLowerCase()}`} value={q} onChange={(e) => setQ(e.target.value)} style={{ marginBottom: 8 }} />}
      <table className="data-table" aria-label={label} style={{ width: '100%' }}>
        <thead>
          <tr>
            <th style={{ width: '30%' }}>Key</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          {shown.map(([k, v]) => (
            <tr key={k}>
              <td className="mono">{k}</td>
              <td className="mono" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                {v}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TagsTab({ tags }: { tags: Record<string, string> }) {
  const [showSystem, setShowSystem] = useState(false);
  const user = Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.'));
  const system = Object.entries(tags).filter(([k]) => k.startsWith('mlflow.'));
  return (
    <div>
      <KeyValueTable label="Tags" entries={user} empty="No tags of your own." />
      {system.length > 0 && (
        <details open={showSystem} onToggle={(e) => setShowSystem((e.target as HTMLDetailsElement).open)} style={{ marginTop: 12 }}>
          <summary>System tags ({system.length})</summary>
          <KeyValueTable label="System tags" entries={system} empty="" />
        </details>
      )}
    </div>
  );
}
