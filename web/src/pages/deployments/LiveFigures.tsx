import { Link } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatValue } from '../../lib/format';
import { usePoll } from '../../lib/usePoll';
import { Loading } from '../../components/States';
import { versionHref } from '../models/links';
import { formatMs, percent, type VersionStats } from './serving';

const WINDOW_SECONDS = 60;
/** How often the figures are asked again while the page is visible. */
export const LIVE_INTERVAL_MS = 2000;

const rate = (r: number) => (r === 0 ? '0/s' : `${formatValue(Number(r.toPrecision(3)))}/s`);

/** Per-version figures from the answering server's own counters, asked every 2 s while the page is visible. */
export function LiveFigures({ name }: { name: string }) {
  const stats = usePoll(
    (signal) => get<{ window_seconds: number; versions: VersionStats[] }>(`/deployments/${enc(name)}/stats`, { window_seconds: WINDOW_SECONDS }, signal),
    LIVE_INTERVAL_MS,
    [name],
  );
  const s = stats.data;
  return (
    <section className="card deploy-section" aria-labelledby="live-figures">
      <div className="panel-head">
        <h2 id="live-figures">Live figures</h2>
        <span className="muted">
          last {s?.window_seconds ?? WINDOW_SECONDS}s on this server, every {LIVE_INTERVAL_MS / 1000}s
        </span>
      </div>
      {stats.error && (
        <p className="error-text" role="alert">
          {stats.error.message}
        </p>
      )}
      {!s ? (
        !stats.error && <Loading what="Loading live figures" />
      ) : s.versions.length === 0 ? (
        <p className="muted">No requests on this server yet: the versions load at the first request.</p>
      ) : (
        <table className="data-table full" aria-label="Live figures">
          <thead>
            <tr>
              <th>Version</th>
              <th>Role</th>
              <th className="num">Requests</th>
              <th className="num">Errors</th>
              <th className="num">Rate</th>
              <th className="num">Error rate</th>
              <th className="num">p50</th>
              <th className="num">p99</th>
              <th className="num">Disagreement</th>
            </tr>
          </thead>
          <tbody>
            {s.versions.map((v) => (
              <tr key={`${v.role}:${v.name}/${v.version}`}>
                <td>
                  <Link to={versionHref(v.name, v.version)}>
                    {v.name}/{v.version}
                  </Link>
                </td>
                <td>{v.role}</td>
                <td className="num" aria-label={`Requests to ${v.name}/${v.version}`}>
                  {v.requests}
                </td>
                <td className="num">{v.errors}</td>
                <td className="num">{rate(v.rate_per_second)}</td>
                <td className={`num ${v.error_rate > 0 ? 'agree-no' : ''}`}>{percent(v.error_rate)}</td>
                <td className="num">{formatMs(v.p50_ms)}</td>
                <td className="num">{formatMs(v.p99_ms)}</td>
                <td className="num">{v.role === 'shadow' && v.disagreement_rate !== undefined && v.disagreement_rate !== null ? percent(v.disagreement_rate) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
