import { Link } from 'react-router-dom';
import { get } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useProject } from '../../lib/project';
import { Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { CREATE_COMMAND, monitorHref, watches, type Monitor } from './monitoring';
import '../models/registry.css';
import '../deployments/deployments.css';
import './monitors.css';

/** Monitors of the header's project (all projects when none is chosen): what each watches, its reference, window, alerts. */
export default function MonitorsPage() {
  const { project } = useProject();
  const list = useApi((signal) => get<{ monitors: Monitor[] }>('/monitors', { project, max_results: 500 }, signal), [project]);
  return (
    <div>
      <div className="row page-title">
        <h1 className="grow">
          Monitors{project !== null && <span className="muted"> in {project}</span>}
        </h1>
        {list.data && <button onClick={list.reload}>Refresh</button>}
      </div>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading monitors" />
      ) : list.data.monitors.length === 0 ? (
        <div>
          <Empty>
            No monitors{project !== null ? ` in ${project}` : ''} yet. A monitor compares what a deployment or an external model sees with a reference dataset
            version, window by window: drift per feature and prediction, data quality, and realized performance once labels arrive. Create one from the
            command line, then log predictions with <code>kiln monitors log</code> (a deployment&apos;s requests are counted by themselves):
          </Empty>
          <Snippet code={CREATE_COMMAND} label="Create monitor command" />
        </div>
      ) : (
        <table className="data-table full" aria-label="Monitors">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>Watches</th>
              <th>Reference</th>
              <th>Window</th>
              <th>Alerts</th>
              <th>Last record</th>
            </tr>
          </thead>
          <tbody>
            {list.data.monitors.map((m) => (
              <tr key={m.name}>
                <td>
                  <Link to={monitorHref(m.name)}>{m.name}</Link>
                </td>
                <td>{m.project}</td>
                <td>{watches(m)}</td>
                <td className="mono">{m.reference.source}</td>
                <td className="mono">{m.window}</td>
                <td>
                  {m.firing > 0 ? (
                    <span className="badge bad" aria-label={`${m.firing} firing`}>
                      {m.firing} firing
                    </span>
                  ) : (
                    <span className="muted">{m.rules.length === 0 ? 'no rules' : 'none firing'}</span>
                  )}
                </td>
                <td title={formatTime(m.last_record_time)}>{m.last_record_time === null ? <span className="muted">never</span> : formatAgo(m.last_record_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
