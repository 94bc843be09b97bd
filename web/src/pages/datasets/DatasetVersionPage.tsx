import { Link, useParams, useSearchParams } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatAgo, formatBytes, formatTime, formatValue } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Tabs, useUrlTab } from '../../components/UrlState';
import { lineageHref } from '../../logic/lineage-layout';
import { Histogram } from './Histogram';
import type { ColumnProfile, DatasetDiff, DatasetSchema, DatasetVersion, DatasetVersionDetail, NumberDelta, Validation } from '../../../../src/data/schemas';
import '../models/registry.css';

const TABS = [
  ['stats', 'Statistics'],
  ['schema', 'Schema'],
  ['validations', 'Validations'],
  ['diff', 'Compare'],
] as const;

/** A dataset version: schema, per-column statistics with histograms, validation reports and a diff against another version (tab and compared version in the URL). */
export default function DatasetVersionPage() {
  const { name = '', version = '' } = useParams();
  const [tab, setTab] = useUrlTab(TABS);
  const dv = useApi((signal) => get<{ version: DatasetVersionDetail }>(`/datasets/${enc(name)}/versions/${enc(version)}`, undefined, signal).then((r) => r.version), [name, version]);
  if (dv.error) return <ErrorState error={dv.error} retry={dv.reload} />;
  if (!dv.data) return <Loading what="Loading dataset version" />;
  const v = dv.data;
  return (
    <div>
      <div className="crumbs">
        <Link to="/datasets">Datasets</Link> / <Link to={`/datasets/${enc(v.name)}`}>{v.name}</Link> /
      </div>
      <div className="page-head">
        <h1>
          {v.name} <span className="muted">v{v.version}</span>
        </h1>
        <span className="badge">{v.format}</span>
        <span className="badge">{v.rows.toLocaleString()} rows</span>
        <span className="badge">{formatBytes(v.bytes)}</span>
        <Link to={lineageHref(`datasets:/${v.name}/${v.version}`, 'down')}>What it fed (lineage)</Link>
        <span className="grow" />
        <span className="muted" title={formatTime(v.creation_time)}>
          added {formatAgo(v.creation_time)}
          {v.user_id ? ` by ${v.user_id}` : ''}
        </span>
      </div>
      <dl className="kv" style={{ marginBottom: 8 }}>
        <dt>Digest</dt>
        <dd className="mono">{v.digest}</dd>
        {v.source && (
          <>
            <dt>Source</dt>
            <dd className="mono">{v.source}</dd>
          </>
        )}
        <dt>Files</dt>
        <dd>{v.files.map((f) => `${f.path} (${formatBytes(f.bytes)})`).join(', ')}</dd>
        {v.description && (
          <>
            <dt>Description</dt>
            <dd>{v.description}</dd>
          </>
        )}
      </dl>
      <Tabs tabs={TABS} current={tab} onSelect={setTab} label="Dataset version sections" />
      <div role="tabpanel">
        {tab === 'stats' && <Statistics columns={v.profile?.columns ?? []} rows={v.rows} />}
        {tab === 'schema' && <Schema schema={v.schema} />}
        {tab === 'validations' && <Validations name={v.name} version={v.version} />}
        {tab === 'diff' && <Diff v={v} />}
      </div>
    </div>
  );
}

function Schema({ schema }: { schema: DatasetSchema | null }) {
  if (!schema || schema.columns.length === 0) return <Empty>No schema was inferred.</Empty>;
  return (
    <>
      <table className="data-table" style={{ width: '100%' }} aria-label="Schema">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th>Nullable</th>
            <th>Bounds</th>
            <th>Categories</th>
          </tr>
        </thead>
        <tbody>
          {schema.columns.map((c) => (
            <tr key={c.name}>
              <td className="mono">{c.name}</td>
              <td>{c.type}</td>
              <td>{c.nullable ? 'yes' : 'no'}</td>
              <td className="mono">{c.min !== undefined || c.max !== undefined ? `${formatValue(c.min ?? '−∞')} … ${formatValue(c.max ?? '∞')}` : '—'}</td>
              <td>{c.categories?.length ? c.categories.join(', ') : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        {schema.allow_extra_columns ? 'Extra columns are allowed.' : 'Columns not in the schema are anomalies.'} {schema.require_rows === false ? 'An empty dataset is allowed.' : 'A dataset without rows is an anomaly.'}
      </p>
    </>
  );
}

const pct = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(n === 0 ? 0 : 1)}%` : '—');

function Statistics({ columns, rows }: { columns: ColumnProfile[]; rows: number }) {
  if (columns.length === 0) return <Empty>No profile for this version.</Empty>;
  return (
    <div className="col-grid">
      {columns.map((c) => {
        const total = c.count + c.missing;
        return (
          <section key={c.name} className="col-card" aria-label={`Column ${c.name}`}>
            <div className="row">
              <strong className="mono grow">{c.name}</strong>
              <span className="badge">{c.type}</span>
            </div>
            <dl className="kv" style={{ marginTop: 6 }}>
              <dt>Count</dt>
              <dd>{c.count.toLocaleString()}</dd>
              <dt>Missing</dt>
              <dd className={c.missing > 0 ? 'error-text' : undefined}>
                {c.missing.toLocaleString()} ({pct(c.missing, total || rows)})
              </dd>
              <dt>Distinct</dt>
              <dd>
                {c.distinct.toLocaleString()}
                {c.distinct_exact ? '' : ' (approx.)'}
              </dd>
              {c.min !== undefined && (
                <>
                  <dt>Min / max</dt>
                  <dd className="mono">
                    {formatValue(c.min)} / {formatValue(c.max)}
                  </dd>
                </>
              )}
              {c.mean !== undefined && c.mean !== null && (
                <>
                  <dt>Mean / std</dt>
                  <dd className="mono">
                    {formatValue(c.mean)} / {formatValue(c.std)}
                  </dd>
                </>
              )}
              {c.quantiles && (
                <>
                  <dt>Quantiles</dt>
                  <dd className="mono" style={{ fontSize: 12 }}>
                    {(['0.05', '0.25', '0.5', '0.75', '0.95'] as const)
                      .filter((k) => c.quantiles![k] !== undefined)
                      .map((k) => `p${Math.round(Number(k) * 100)} ${formatValue(c.quantiles![k])}`)
                      .join(' · ')}
                  </dd>
                </>
              )}
              {c.true_count !== undefined && (
                <>
                  <dt>True / false</dt>
                  <dd>
                    {c.true_count} / {c.false_count}
                  </dd>
                </>
              )}
              {c.min_length !== undefined && (
                <>
                  <dt>Length</dt>
                  <dd>
                    {c.min_length}–{c.max_length} (mean {formatValue(c.mean_length)})
                  </dd>
                </>
              )}
              {c.top && c.top.length > 0 && (
                <>
                  <dt>Top values</dt>
                  <dd>
                    {c.top.slice(0, 5).map((t) => (
                      <span key={t.value} className="badge" style={{ marginRight: 4, marginBottom: 2 }}>
                        {t.value} <span className="muted">{c.top_exact === false ? '≤' : ''}{t.count}</span>
                      </span>
                    ))}
                  </dd>
                </>
              )}
            </dl>
            {c.histogram && <Histogram edges={c.histogram.edges} counts={c.histogram.counts} column={c.name} />}
          </section>
        );
      })}
    </div>
  );
}

function Validations({ name, version }: { name: string; version: number }) {
  const list = useApi((signal) => get<{ validations: Validation[] }>(`/datasets/${enc(name)}/versions/${version}/validations`, { max_results: 50 }, signal), [name, version]);
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="Loading validation reports" />;
  if (list.data.validations.length === 0)
    return (
      <Empty>
        Never validated. Run <code>kiln data validate {name}@v{version} --schema {name}@v1</code>.
      </Empty>
    );
  return (
    <div>
      {list.data.validations.map((r, i) => (
        <section key={r.id} className={`callout ${r.ok ? 'ok' : 'bad'}`} aria-label={`Validation report ${r.id}`}>
          <div className="row">
            <span className={`badge ${r.ok ? 'ok' : 'bad'}`}>{r.ok ? 'PASSED' : 'FAILED'}</span>
            <strong>
              against {r.schema_ref ?? 'an inline schema'}
              {r.baseline ? `, drift vs ${r.baseline}` : ''}
            </strong>
            {i === 0 && <span className="badge">latest</span>}
            <span className="grow" />
            <span className="muted">
              {r.errors} error(s), {r.warnings} warning(s) · {formatTime(r.creation_time)}
              {r.user_id ? ` by ${r.user_id}` : ''}
            </span>
          </div>
          {r.anomalies.length === 0 ? (
            <p className="muted" style={{ marginBottom: 0 }}>
              No anomalies in {r.statistics.columns_checked} columns.
            </p>
          ) : (
            <table className="data-table" style={{ width: '100%', marginTop: 8 }} aria-label={`Anomalies of report ${r.id}`}>
              <thead>
                <tr>
                  <th>Severity</th>
                  <th>Type</th>
                  <th>Column</th>
                  <th>Message</th>
                </tr>
              </thead>
              <tbody>
                {r.anomalies.map((a, j) => (
                  <tr key={j}>
                    <td>
                      <span className={`badge sev-${a.severity}`}>{a.severity}</span>
                    </td>
                    <td className="mono">{a.type}</td>
                    <td className="mono">{a.column ?? '—'}</td>
                    <td>{a.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </div>
  );
}

function Delta({ d, digits }: { d: NumberDelta | undefined; digits?: boolean }) {
  if (!d) return <span className="muted">—</span>;
  const f = (n: number | null) => (n === null ? '—' : digits ? `${(n * 100).toFixed(1)}%` : formatValue(n));
  return (
    <span className="mono">
      {f(d.a)} → {f(d.b)}
      {d.delta !== null && d.delta !== 0 && (
        <span className={d.delta > 0 ? 'delta-up' : 'delta-down'}>
          {' '}
          ({d.delta > 0 ? '+' : ''}
          {digits ? `${(d.delta * 100).toFixed(1)}pp` : formatValue(d.delta)})
        </span>
      )}
    </span>
  );
}

function Diff({ v }: { v: DatasetVersionDetail }) {
  const [params, setParams] = useSearchParams();
  const versions = useApi((signal) => get<{ versions: DatasetVersion[] }>(`/datasets/${enc(v.name)}/versions`, { max_results: 500 }, signal), [v.name]);
  const others = (versions.data?.versions ?? []).filter((x) => x.version !== v.version);
  const fallback = others.find((x) => x.version < v.version) ?? others[0];
  const compare = Number(params.get('compare')) || fallback?.version || 0;
  const diff = useApi(
    (signal) => (compare ? get<DatasetDiff>('/datasets/diff', { a: `${v.name}@v${compare}`, b: `${v.name}@v${v.version}` }, signal) : Promise.resolve(null)),
    [v.name, v.version, compare],
  );
  if (versions.error) return <ErrorState error={versions.error} retry={versions.reload} />;
  if (!versions.data) return <Loading what="Loading versions" />;
  if (others.length === 0) return <Empty>This is the only version: nothing to compare with.</Empty>;
  return (
    <div>
      <label className="row" style={{ marginBottom: 12 }}>
        Compare with
        <select
          aria-label="Compare with version"
          value={compare}
          onChange={(e) =>
            setParams((p) => {
              p.set('tab', 'diff');
              p.set('compare', e.target.value);
              return p;
            })
          }
        >
          {others.map((x) => (
            <option key={x.version} value={x.version}>
              v{x.version} ({x.rows.toLocaleString()} rows, {formatAgo(x.creation_time)})
            </option>
          ))}
        </select>
        <span className="muted">
          changes from v{compare} to this version (v{v.version})
        </span>
      </label>
      {diff.error ? (
        <ErrorState error={diff.error} retry={diff.reload} />
      ) : !diff.data || diff.loading ? (
        <Loading what="Comparing" />
      ) : (
        <section aria-label="Diff">
          <p>
            Rows: <Delta d={diff.data.rows} />
            {diff.data.added_columns.length > 0 && <span> · added columns: {diff.data.added_columns.join(', ')}</span>}
            {diff.data.removed_columns.length > 0 && <span> · removed columns: {diff.data.removed_columns.join(', ')}</span>}
          </p>
          <table className="data-table" style={{ width: '100%' }} aria-label="Column changes">
            <thead>
              <tr>
                <th>Column</th>
                <th>Status</th>
                <th>Type</th>
                <th>Missing rate</th>
                <th>Mean</th>
                <th>Distinct</th>
                <th>Min / max</th>
                <th title="Jensen–Shannon divergence between the two distributions (0 = same, 1 = disjoint)">Drift (JS)</th>
              </tr>
            </thead>
            <tbody>
              {diff.data.columns.map((c) => (
                <tr key={c.name} className={`diff-${c.status}`}>
                  <td className="mono">{c.name}</td>
                  <td>{c.status}</td>
                  <td>{c.type_changed ? `${c.type_a ?? '—'} → ${c.type_b ?? '—'}` : (c.type_b ?? c.type_a)}</td>
                  <td>
                    <Delta d={c.missing_rate} digits />
                  </td>
                  <td>
                    <Delta d={c.mean} />
                  </td>
                  <td>
                    <Delta d={c.distinct} />
                  </td>
                  <td>
                    <Delta d={c.min} /> <br />
                    <Delta d={c.max} />
                  </td>
                  <td className={typeof c.js_divergence === 'number' && c.js_divergence > 0.1 ? 'error-text num' : 'num'}>{typeof c.js_divergence === 'number' ? c.js_divergence.toFixed(3) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
