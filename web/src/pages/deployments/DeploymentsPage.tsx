import { Link } from 'react-router-dom';
import { get } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useProject } from '../../lib/project';
import { Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { deploymentHref, overallState, STATE_CLASS, trafficSummary, type Deployment } from './serving';
import '../models/registry.css';
import './deployments.css';

const CREATE = 'kiln deployments create NAME --model models:/NAME@production';

/** Deployments of the header's project (all projects when none is chosen): state, traffic, revision. */
export default function DeploymentsPage() {
  const { project } = useProject();
  const list = useApi((signal) => get<{ deployments: Deployment[] }>('/deployments', { project, max_results: 500 }, signal), [project]);
  return (
    <div>
      <div className="row page-title">
        <h1 className="grow">
          Deployments{project !== null && <span className="muted"> in {project}</span>}
        </h1>
        {list.data && <button onClick={list.reload}>Refresh</button>}
      </div>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading deployments" />
      ) : list.data.deployments.length === 0 ? (
        <div>
          <Empty>
            No deployments{project !== null ? ` in ${project}` : ''} yet. Deploy a model version with the <strong>Deploy</strong> button on its page (under{' '}
            <Link to="/models">Models</Link>), or from the command line:
          </Empty>
          <Snippet code={CREATE} label="Create deployment command" />
        </div>
      ) : (
        <table className="data-table full" aria-label="Deployments">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>State</th>
              <th>Traffic</th>
              <th className="num">Revision</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.deployments.map((d) => {
              const state = overallState(d.status);
              const failed = (d.status ?? []).filter((s) => s.state === 'failed');
              return (
                <tr key={d.name}>
                  <td>
                    <Link to={deploymentHref(d.name)}>{d.name}</Link>
                  </td>
                  <td>{d.project}</td>
                  <td>
                    <span className={`badge ${STATE_CLASS[state] ?? ''}`} title={failed.map((s) => `${s.name}/${s.version}: ${s.error ?? 'failed'}`).join('\n') || undefined}>
                      {state}
                    </span>
                  </td>
                  <td className="mono">{trafficSummary(d.resolved)}</td>
                  <td className="num">{d.revision}</td>
                  <td title={formatTime(d.last_update_time)}>{formatAgo(d.last_update_time)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
