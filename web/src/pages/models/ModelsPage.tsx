import { Link } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import type { ModelVersion, RegisteredModel } from '../../../../src/registry/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { SearchBox, useUrlQuery } from '../../components/UrlState';
import { nameContains } from '../../lib/filters';
import { useProject } from '../../lib/project';
import { versionHref } from './links';
import { latestVersions, VersionStatus } from './VersionStatus';
import './registry.css';

const REGISTER = `import mlflow

mlflow.set_tracking_uri("${window.location.origin}")
with mlflow.start_run():
    mlflow.onnx.log_model(onnx_model, "model", registered_model_name="my-model")`;

/** The newest READY version of a model whose newest versions are not ready (one small search). */
function LatestReady({ name }: { name: string }) {
  const r = useApi((signal) => get<{ versions: ModelVersion[] }>(`/models/${enc(name)}/versions`, { filter: "status = 'READY'", max_results: 1 }, signal), [name]);
  const v = r.data?.versions[0];
  if (!r.data) return <span className="muted">…</span>;
  return v ? <Link to={versionHref(name, v.version)}>v{v.version}</Link> : <span className="muted">none ready</span>;
}

/** Registered models with their aliases and latest version; search by name (kept in the URL). */
export default function ModelsPage() {
  const [q, setQ] = useUrlQuery();
  // The header's project: only its models.
  const { project } = useProject();
  const list = useApi(
    (signal) => {
      const filter = q ? nameContains(q) : undefined;
      return get<{ models: RegisteredModel[] }>('/models', { project, filter, max_results: 500, order_by: ['last_updated_timestamp DESC'] }, signal);
    },
    [q, project],
  );
  return (
    <div>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 className="grow" style={{ margin: 0 }}>
          Models{project !== null && <span className="muted"> in {project}</span>}
        </h1>
        <SearchBox value={q} onChange={setQ} label="Search models" />
      </div>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading models" />
      ) : list.data.models.length === 0 ? (
        q || project !== null ? (
          <Empty>No models match.</Empty>
        ) : (
          <div>
            <Empty>No registered models yet. Register one when logging it:</Empty>
            <Snippet code={REGISTER} label="Register snippet" />
          </div>
        )
      ) : (
        <table className="data-table" style={{ width: '100%' }}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Aliases</th>
              <th>Latest version</th>
              <th>Description</th>
              <th>Last updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.models.map((m) => {
              const latest = latestVersions(m.latest_versions);
              const aliases = Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b));
              return (
                <tr key={m.name}>
                  <td>
                    <Link to={`/models/${enc(m.name)}`}>{m.name}</Link>
                  </td>
                  <td>
                    {aliases.length === 0 ? (
                      <span className="muted">—</span>
                    ) : (
                      aliases.map(([a, v]) => (
                        <Link key={a} to={versionHref(m.name, v)} className="badge alias" style={{ marginRight: 4 }} title={`@${a} → version ${v}`}>
                          @{a} → v{v}
                        </Link>
                      ))
                    )}
                  </td>
                  <td aria-label={`Latest version of ${m.name}`}>
                    {latest.ready ? <Link to={versionHref(m.name, latest.ready.version)}>v{latest.ready.version}</Link> : latest.newer.length === 0 ? <span className="muted">—</span> : <LatestReady name={m.name} />}
                    {latest.newer.map((v) => (
                      <span key={v.version} className="newer-version">
                        {' '}
                        <Link to={versionHref(m.name, v.version)} className="muted">
                          v{v.version}
                        </Link>{' '}
                        <VersionStatus v={v} />
                      </span>
                    ))}
                  </td>
                  <td className="muted" style={{ maxWidth: 380, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                    {(m.description ?? '').split('\n')[0]?.replace(/[#*_`]/g, '') || '—'}
                  </td>
                  <td title={formatTime(m.last_update_time)}>{formatAgo(m.last_update_time)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
