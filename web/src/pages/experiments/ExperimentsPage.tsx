import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError, del, enc, get, patch, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import type { Experiment, ExperimentStats } from '../../../../src/tracking/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { SearchBox, useUrlQuery } from '../../components/UrlState';
import { nameContains } from '../../lib/filters';
import { canEdit, useProject, useProjects } from '../../lib/project';

const PYTHON = `import mlflow

mlflow.set_tracking_uri("${window.location.origin}")
mlflow.set_experiment("quickstart")
with mlflow.start_run():
    mlflow.log_param("lr", 0.01)
    for step in range(100):
        mlflow.log_metric("loss", 1 / (step + 1), step=step)`;

const TYPESCRIPT = `import { Kiln } from 'kiln-mlops';

const kiln = new Kiln({ trackingUri: '${window.location.origin}' });
await kiln.withRun({ experiment: 'quickstart', params: { lr: 0.01 } }, async (run) => {
  for (let step = 0; step < 100; step++) run.logMetric('loss', 1 / (step + 1), step);
});`;

/** Experiments: search, run counts, last activity; create, rename, delete, restore. */
export function ExperimentsPage() {
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useUrlQuery();
  const view = params.get('view') === 'deleted' ? 'DELETED_ONLY' : 'ACTIVE_ONLY';
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // The header's project: only its experiments, and new ones go into it.
  const { project } = useProject();
  // Creating needs the editor role in the project (the default one when none is chosen); the server checks it too.
  const projects = useProjects();
  const mayCreate = !projects.data || canEdit(projects.data.find((p) => p.name === (project ?? 'default'))?.role);
  const list = useApi(
    async (signal) => {
      const filter = q ? nameContains(q) : undefined;
      const r = await get<{ experiments: Experiment[] }>('/experiments', { project, filter, view_type: view, max_results: 1000, order_by: ['last_update_time DESC'] }, signal);
      const ids = r.experiments.map((e) => e.experiment_id);
      const stats = ids.length ? (await get<{ stats: ExperimentStats[] }>('/experiments/stats', { experiment_id: ids }, signal)).stats : [];
      return { experiments: r.experiments, stats: new Map(stats.map((x) => [x.experiment_id, x])) };
    },
    [q, view, project],
  );
  const totalRuns = useMemo(() => [...(list.data?.stats.values() ?? [])].reduce((n, s) => n + s.runs, 0), [list.data]);

  const act = async (label: string, fn: () => Promise<unknown>) => {
    setBusy(label);
    setActionError(null);
    try {
      await fn();
      list.reload();
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };
  const create = () => {
    const name = window.prompt(project === null ? 'Name of the new experiment' : `Name of the new experiment in ${project}`);
    if (name) void act('create', () => post('/experiments', { name, ...(project === null ? {} : { project }) }));
  };
  const rename = (e: Experiment) => {
    const name = window.prompt(`Rename "${e.name}" to`, e.name);
    if (name && name !== e.name) void act(`rename-${e.experiment_id}`, () => patch(`/experiments/${enc(e.experiment_id)}`, { name }));
  };
  const remove = (e: Experiment) => {
    if (window.confirm(`Delete experiment "${e.name}" and its runs? It can be restored.`)) void act(`delete-${e.experiment_id}`, () => del(`/experiments/${enc(e.experiment_id)}`));
  };
  const restore = (e: Experiment) => void act(`restore-${e.experiment_id}`, () => post(`/experiments/${enc(e.experiment_id)}/restore`));

  return (
    <div>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 className="grow" style={{ margin: 0 }}>
          Experiments{project !== null && <span className="muted"> in {project}</span>}
        </h1>
        <SearchBox value={q} onChange={setQ} label="Search experiments" />
        <select
          aria-label="Which experiments"
          value={view === 'DELETED_ONLY' ? 'deleted' : 'active'}
          onChange={(ev) =>
            setParams((p) => {
              if (ev.target.value === 'deleted') p.set('view', 'deleted');
              else p.delete('view');
              return p;
            })
          }
        >
          <option value="active">Active</option>
          <option value="deleted">Deleted</option>
        </select>
        <button className="primary" onClick={create} disabled={busy !== null || !mayCreate} title={mayCreate ? undefined : `Creating an experiment needs the editor role in ${project ?? 'the default project'}`}>
          New experiment
        </button>
      </div>
      {actionError && (
        <p className="error-text" role="alert">
          {actionError}
        </p>
      )}
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading experiments" />
      ) : list.data.experiments.length === 0 ? (
        q || view === 'DELETED_ONLY' || project !== null ? (
          <Empty>No experiments match.</Empty>
        ) : (
          <div>
            <Empty>No experiments yet. Log a first run:</Empty>
            <div className="grid2">
              <div>
                <h2>Python (mlflow)</h2>
                <Snippet code={PYTHON} label="Python snippet" />
              </div>
              <div>
                <h2>TypeScript</h2>
                <Snippet code={TYPESCRIPT} label="TypeScript snippet" />
              </div>
            </div>
          </div>
        )
      ) : (
        <>
          {totalRuns === 0 && view === 'ACTIVE_ONLY' && !q && (
            <div className="card" style={{ marginBottom: 16 }}>
              <strong>No runs yet.</strong> Log a first run from Python or TypeScript:
              <div className="grid2" style={{ marginTop: 8 }}>
                <Snippet code={PYTHON} label="Python snippet" />
                <Snippet code={TYPESCRIPT} label="TypeScript snippet" />
              </div>
            </div>
          )}
          <table className="data-table" style={{ width: '100%' }}>
            <thead>
              <tr>
                <th>Name</th>
                <th>ID</th>
                {project === null && <th>Project</th>}
                <th style={{ textAlign: 'right' }}>Runs</th>
                <th>Last activity</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.experiments.map((e) => {
                const st = list.data!.stats.get(e.experiment_id);
                const last = Math.max(st?.last_activity ?? 0, e.last_update_time);
                return (
                  <tr key={e.experiment_id}>
                    <td>
                      {e.lifecycle_stage === 'active' ? <Link to={`/experiments/${enc(e.experiment_id)}`}>{e.name}</Link> : <span className="muted">{e.name}</span>}
                    </td>
                    <td className="mono muted">{e.experiment_id}</td>
                    {project === null && <td className="muted">{e.project}</td>}
                    <td style={{ textAlign: 'right' }}>
                      {st?.runs ?? 0}
                      {st && st.running > 0 && (
                        <span className="badge warn" style={{ marginLeft: 6 }}>
                          {st.running} running
                        </span>
                      )}
                    </td>
                    <td title={formatTime(last)}>{formatAgo(last)}</td>
                    <td>{formatTime(e.creation_time)}</td>
                    <td style={{ whiteSpace: 'nowrap', textAlign: 'right' }}>
                      {e.lifecycle_stage === 'active' ? (
                        <>
                          <button onClick={() => rename(e)} disabled={busy !== null} aria-label={`Rename ${e.name}`}>
                            Rename
                          </button>{' '}
                          {e.experiment_id !== '0' && (
                            <button onClick={() => remove(e)} disabled={busy !== null} aria-label={`Delete ${e.name}`}>
                              Delete
                            </button>
                          )}
                        </>
                      ) : (
                        <button onClick={() => restore(e)} disabled={busy !== null} aria-label={`Restore ${e.name}`}>
                          Restore
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
