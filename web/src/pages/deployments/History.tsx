import { enc, get, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useAction } from '../../lib/useAction';
import { ActionError, ErrorState, Loading } from '../../components/States';
import { KIND_LABEL, trafficSummary, type Revision } from './serving';

/**
 * Every configuration the deployment had, newest first; any earlier one can be restored (a rollback is itself a
 * new revision). Asked again whenever the current revision changes.
 */
export function History({ name, current, onChanged }: { name: string; current: number; onChanged: () => void }) {
  const revisions = useApi((signal) => get<{ revisions: Revision[] }>(`/deployments/${enc(name)}/revisions`, undefined, signal).then((r) => r.revisions), [name, current]);
  const { busy, error, run } = useAction();
  const rollback = (r: Revision) => {
    if (!window.confirm(`Roll ${name} back to revision ${r.revision}? It serves ${trafficSummary(r.resolved)} again, as a new revision.`)) return;
    void run(`rollback-${r.revision}`, () => post(`/deployments/${enc(name)}/rollback`, { to: r.revision, reason: `rollback to revision ${r.revision} from the web UI` })).then((ok) => {
      if (ok) {
        onChanged();
        revisions.reload();
      }
    });
  };
  return (
    <section className="deploy-section" aria-labelledby="deployment-history">
      <h2 id="deployment-history">History</h2>
      <ActionError error={error} />
      {revisions.error ? (
        <ErrorState error={revisions.error} retry={revisions.reload} />
      ) : !revisions.data ? (
        <Loading what="Loading history" />
      ) : (
        <table className="data-table full" aria-label="History">
          <thead>
            <tr>
              <th className="num">Revision</th>
              <th>Kind</th>
              <th>When</th>
              <th>Who</th>
              <th>Versions served</th>
              <th>Reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {revisions.data.map((r) => (
              <tr key={r.revision}>
                <td className="num">{r.revision}</td>
                <td>
                  {KIND_LABEL[r.kind] ?? r.kind}
                  {r.revision === current && (
                    <>
                      {' '}
                      <span className="badge ok">current</span>
                    </>
                  )}
                </td>
                <td title={formatTime(r.time)}>{formatAgo(r.time)}</td>
                <td>{r.actor}</td>
                <td className="mono">{trafficSummary(r.resolved)}</td>
                <td className={r.reason ? '' : 'muted'}>{r.reason ?? '—'}</td>
                <td className="actions">
                  {r.revision < current && (
                    <button onClick={() => rollback(r)} disabled={busy !== null} aria-label={`Roll back to revision ${r.revision}`} title={`Roll back to revision ${r.revision}`}>
                      {busy === `rollback-${r.revision}` ? 'Rolling back…' : 'Roll back to this'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
