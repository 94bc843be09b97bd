import { formatTime, formatValue } from '../../lib/format';
import { windowLabel } from '../../logic/drift-view';
import type { Alert, Monitor } from './monitoring';

/** The alert history, newest first: each rule's firings and when they resolved. */
export function Alerts({ monitor, alerts, error }: { monitor: Monitor; alerts: readonly Alert[] | undefined; error: Error | undefined }) {
  return (
    <section className="card mon-section" aria-labelledby="alerts-title">
      <h2 id="alerts-title" className="panel-title">
        Alert history
      </h2>
      {error && (
        <p className="error-text" role="alert">
          {error.message}
        </p>
      )}
      {!alerts ? null : alerts.length === 0 ? (
        <p className="muted">{monitor.rules.length === 0 ? 'No alert rules: add some with kiln monitors update --rule "drift_share > 0.5 for 2 windows".' : 'No alert has fired.'}</p>
      ) : (
        <table className="data-table full" aria-label="Alerts">
          <thead>
            <tr>
              <th>State</th>
              <th>Rule</th>
              <th className="num">Value</th>
              <th>Window</th>
              <th>Fired</th>
              <th>Resolved</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id} data-state={a.state}>
                <td>
                  <span className={`badge ${a.state === 'FIRING' ? 'bad' : 'ok'}`}>{a.state}</span>
                </td>
                <td className="mono">{a.rule}</td>
                <td className="num">{formatValue(a.value)}</td>
                <td>{a.window_start === null ? '—' : windowLabel(a.window_start, monitor.window)}</td>
                <td>{formatTime(a.fired_at)}</td>
                <td>{a.resolved_at === null ? <span className="muted">—</span> : formatTime(a.resolved_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
