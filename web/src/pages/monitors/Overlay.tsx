import { enc, get } from '../../lib/api';
import { formatValue } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { overlayBars, windowLabel } from '../../logic/drift-view';
import { Loading } from '../../components/States';
import type { ColumnDrift, Report } from './monitoring';

const W = 900;
const H = 200;
const BOTTOM = 64;
const LEFT = 36;

const pct = (share: number) => `${Number((share * 100).toPrecision(3))}%`;

/** The reference's and the window's histograms of one column, each in shares of its own total, bin by bin. */
function Bars({ column, d, windowText, comparedTo }: { column: string; d: ColumnDrift; windowText: string; comparedTo: string }) {
  const bars = overlayBars(d.bins, d.reference_counts, d.current_counts, W - LEFT, H);
  const max = Math.max(0, ...bars.map((b) => Math.max(b.reference, b.current)));
  const slanted = bars.length > 8 || bars.some((b) => b.label.length > 8);
  return (
    <svg className="overlay-svg" viewBox={`0 0 ${W} ${H + BOTTOM}`} width="100%" role="img" aria-label={`Histograms of ${column}: ${comparedTo} and ${windowText}`}>
      <line className="axis" x1={LEFT} x2={W} y1={H} y2={H} />
      <text x={LEFT - 4} y={10} textAnchor="end">
        {max > 0 ? pct(max) : ''}
      </text>
      <text x={LEFT - 4} y={H} textAnchor="end">
        0
      </text>
      {bars.map((b, i) => {
        const half = Math.max(0.5, (b.width - 4) / 2);
        const x = LEFT + b.x + 2;
        const lx = LEFT + b.x + b.width / 2;
        return (
          <g key={i}>
            <rect className="bar-ref" data-side="reference" x={x} y={H - b.refHeight} width={half} height={Math.max(b.refHeight, b.reference > 0 ? 1 : 0)}>
              <title>{`${b.label}: ${comparedTo} ${pct(b.reference)} (${d.reference_counts[i] ?? 0})`}</title>
            </rect>
            <rect className="bar-cur" data-side="window" x={x + half} y={H - b.curHeight} width={half} height={Math.max(b.curHeight, b.current > 0 ? 1 : 0)}>
              <title>{`${b.label}: window ${pct(b.current)} (${d.current_counts[i] ?? 0})`}</title>
            </rect>
            <text x={lx} y={H + 12} textAnchor={slanted ? 'end' : 'middle'} transform={slanted ? `rotate(-40 ${lx} ${H + 12})` : undefined}>
              {b.label.length > 16 ? `${b.label.slice(0, 15)}…` : b.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The figures of one column in one window (the tests' p-values, the distances, data quality). */
function Figures({ d }: { d: ColumnDrift }) {
  const pvalue = d.kind === 'numeric' ? d.ks_pvalue : (d.chi2_pvalue ?? d.z_pvalue);
  return (
    <dl className="kv overlay-figures" aria-label="Drift figures">
      <dt>Method</dt>
      <dd>
        {d.method} (threshold {formatValue(d.threshold)})
      </dd>
      <dt>Statistic</dt>
      <dd className="mono">{formatValue(d.statistic)}</dd>
      <dt>Drifted</dt>
      <dd className={d.drifted ? 'agree-no' : 'agree-yes'}>{d.drifted ? 'yes' : 'no'}</dd>
      <dt>PSI</dt>
      <dd className="mono">
        {formatValue(d.psi)}
        {d.psi_band && <span className="muted"> ({d.psi_band})</span>}
      </dd>
      <dt>Jensen–Shannon</dt>
      <dd className="mono">{formatValue(d.js)}</dd>
      {d.kind === 'numeric' && (
        <>
          <dt>Wasserstein</dt>
          <dd className="mono">{formatValue(d.wasserstein)}</dd>
          <dt>KS statistic</dt>
          <dd className="mono">{formatValue(d.ks_statistic)}</dd>
        </>
      )}
      <dt>{d.kind === 'numeric' ? 'KS p-value' : d.chi2_pvalue !== null ? 'χ² p-value' : 'z p-value'}</dt>
      <dd className="mono">{formatValue(pvalue)}</dd>
      <dt>Rows</dt>
      <dd className="mono">{d.rows.toLocaleString()}</dd>
      <dt>Missing</dt>
      <dd className="mono">{formatValue(d.missing_rate)}</dd>
      {d.kind === 'numeric' && (
        <>
          <dt>Out of range</dt>
          <dd className="mono">{formatValue(d.out_of_range_rate)}</dd>
        </>
      )}
      {d.invalid > 0 && (
        <>
          <dt>Invalid values</dt>
          <dd className="mono">{d.invalid}</dd>
        </>
      )}
    </dl>
  );
}

/** One column in one window against the reference (or the previous window): both histograms and the figures. */
export function Overlay({ monitor, window, column, start, compare }: { monitor: string; window: string; column: string; start: number; compare: 'reference' | 'previous' }) {
  const report = useApi((signal) => get<Report>(`/monitors/${enc(monitor)}/windows/${start}`, { compare: compare === 'previous' ? 'previous' : undefined }, signal), [monitor, start, compare]);
  const d = report.data ? (report.data.features[column] ?? report.data.predictions[column]) : undefined;
  const windowText = windowLabel(start, window);
  const comparedTo = compare === 'previous' ? 'previous window' : 'reference';
  return (
    <section className="card mon-section" data-testid="overlay" data-column={column} data-start={start} aria-labelledby="overlay-title">
      <div className="panel-head">
        <h2 id="overlay-title">
          {column} <span className="muted">in {windowText}</span>
        </h2>
        {d && <span className={`badge ${d.drifted ? 'bad' : 'ok'}`}>{d.drifted ? 'drifted' : 'not drifted'}</span>}
        <span className="overlay-key">
          <i className="bar-ref" /> {comparedTo} <i className="bar-cur" /> window
        </span>
      </div>
      {report.error ? (
        <p className="error-text" role="alert">
          {report.error.message}
        </p>
      ) : !report.data || report.loading ? (
        <Loading what="Loading the window" />
      ) : !d ? (
        <p className="muted">This window has no figures for {column}.</p>
      ) : (
        <div className="overlay-body">
          <div className="overlay-chart">
            {d.bins.length === 0 ? <p className="muted">No bins.</p> : <Bars column={column} d={d} windowText={windowText} comparedTo={comparedTo} />}
            <p className="muted overlay-note">Shares of each side&apos;s own total, per {d.kind === 'numeric' ? 'bin of the reference’s quantiles (and below / above its range)' : 'category'}.</p>
          </div>
          <Figures d={d} />
        </div>
      )}
    </section>
  );
}
