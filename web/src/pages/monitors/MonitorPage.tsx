import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatAgo, formatTime, formatValue } from '../../lib/format';
import { usePoll } from '../../lib/usePoll';
import { ErrorState, Loading } from '../../components/States';
import { windowLabel } from '../../logic/drift-view';
import { Alerts } from './Alerts';
import { Heatmap, type HeatRow, type Selection } from './Heatmap';
import { Overlay } from './Overlay';
import { PerformanceCharts, PredictionCharts } from './TimeCharts';
import { watches, type Alert, type Monitor, type WindowSummary } from './monitoring';
import '../models/registry.css';
import '../deployments/deployments.css';
import './monitors.css';

/** How often the monitor, its windows and alerts are asked again while the page is visible. */
const REFRESH_MS = 15_000;
/** The latest windows shown. */
const WINDOWS = 200;

type Compare = 'reference' | 'previous';

/** What the monitor is: what it watches, against which reference, by which window, with which rules. */
function Summary({ m }: { m: Monitor }) {
  return (
    <section className="card mon-section" aria-labelledby="monitor-summary">
      <h2 id="monitor-summary" className="panel-title">
        Monitor
      </h2>
      <dl className="kv" aria-label="Monitor settings">
        <dt>Watches</dt>
        <dd>{watches(m)}</dd>
        <dt>Reference</dt>
        <dd>
          <span className="mono">{m.reference.source}</span> <span className="muted">({m.reference.rows.toLocaleString()} rows)</span>
        </dd>
        <dt>Window</dt>
        <dd>
          <span className="mono">{m.window}</span>
          <span className="muted"> {m.time_column ? `by the time in ${m.time_column}` : 'by arrival time'}</span>
        </dd>
        <dt>Columns</dt>
        <dd>
          {m.features.length} {m.features.length === 1 ? 'feature' : 'features'}
          {m.predictions.length > 0 && `, predictions ${m.predictions.map((p) => p.name).join(', ')}`}
          {m.label && `, label ${m.label}`}
          {m.task && <span className="muted"> ({m.task})</span>}
        </dd>
        <dt>Dataset drift</dt>
        <dd>when ≥ {formatValue(m.drift_share * 100)}% of the features drift</dd>
        <dt>Rules</dt>
        <dd>
          {m.rules.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="plain-list rules" aria-label="Rules">
              {m.rules.map((r) => (
                <li key={r.id} className="mono">
                  {r.text}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Last record</dt>
        <dd title={formatTime(m.last_record_time)}>{m.last_record_time === null ? <span className="muted">none yet</span> : formatAgo(m.last_record_time)}</dd>
      </dl>
    </section>
  );
}

/**
 * One monitor: its settings, the features × windows drift heatmap, the selected column's histograms against the
 * reference, its predictions' drift and realized performance over time, and the alert history.
 */
export default function MonitorPage() {
  const name = useParams().name!;
  const [params, setParams] = useSearchParams();
  const compare: Compare = params.get('compare') === 'previous' ? 'previous' : 'reference';
  const mon = usePoll((signal) => get<{ monitor: Monitor }>(`/monitors/${enc(name)}`, undefined, signal).then((r) => r.monitor), REFRESH_MS, [name]);
  const wins = usePoll(
    (signal) => get<{ windows: WindowSummary[] }>(`/monitors/${enc(name)}/windows`, { limit: WINDOWS, compare: compare === 'previous' ? 'previous' : undefined }, signal).then((r) => r.windows),
    REFRESH_MS,
    [name, compare],
  );
  const alerts = usePoll((signal) => get<{ alerts: Alert[] }>(`/monitors/${enc(name)}/alerts`, { max_results: 100 }, signal).then((r) => r.alerts), REFRESH_MS, [name]);

  const m = mon.data;
  const windows = wins.data;
  const rows = useMemo<HeatRow[]>(() => (m ? [...m.features.map((f) => ({ name: f.name, role: 'feature' as const })), ...m.predictions.map((p) => ({ name: p.name, role: 'prediction' as const }))] : []), [m]);

  // The selection is in the URL (?column=&window=); by default the latest window and its most drifted column.
  const selected = useMemo<Selection | null>(() => {
    if (!windows || windows.length === 0 || rows.length === 0) return null;
    const askedStart = Number(params.get('window'));
    const w = windows.find((x) => params.get('window') !== null && x.start === askedStart) ?? windows[windows.length - 1]!;
    const asked = params.get('column');
    if (asked !== null && rows.some((r) => r.name === asked)) return { column: asked, start: w.start };
    const drifted = rows.filter((r) => w.columns[r.name]?.drifted).sort((a, b) => (w.columns[b.name]?.psi ?? 0) - (w.columns[a.name]?.psi ?? 0));
    return { column: (drifted[0] ?? rows[0]!).name, start: w.start };
  }, [windows, rows, params]);

  const select = (s: Selection) =>
    setParams(
      (p) => {
        p.set('column', s.column);
        p.set('window', String(s.start));
        return p;
      },
      { replace: true },
    );
  const setCompare = (c: Compare) =>
    setParams((p) => {
      if (c === 'reference') p.delete('compare');
      else p.set('compare', c);
      return p;
    });

  if (!m) return mon.error ? <ErrorState error={mon.error} retry={mon.reload} /> : <Loading what="Loading the monitor" />;
  const latest = windows?.[windows.length - 1];
  return (
    <div>
      <div className="crumbs">
        <Link to="/monitors">Monitors</Link> /
      </div>
      <div className="page-head">
        <h1>{m.name}</h1>
        {m.firing > 0 ? (
          <span className="badge bad" data-testid="firing">
            {m.firing} firing
          </span>
        ) : (
          <span className="badge ok" data-testid="firing">
            no alert firing
          </span>
        )}
        <span className="badge" title="project">
          {m.project}
        </span>
        <span className="muted">
          watches {watches(m)} · reference <span className="mono">{m.reference.source}</span> · window <span className="mono">{m.window}</span>
        </span>
        <span className="grow" />
        <span className="muted" title={formatTime(m.creation_time)}>
          created {formatAgo(m.creation_time)}
          {m.created_by ? ` by ${m.created_by}` : ''}
        </span>
      </div>
      {m.description && <p>{m.description}</p>}
      {(mon.error ?? wins.error) && (
        <p className="error-text" role="alert">
          {(mon.error ?? wins.error)!.message}
        </p>
      )}
      <Summary m={m} />

      <section className="card mon-section" aria-labelledby="drift-title">
        <div className="panel-head">
          <h2 id="drift-title">Drift by window</h2>
          {latest && (
            <span className="muted">
              {windows!.length} {windows!.length === 1 ? 'window' : 'windows'}, latest {windowLabel(latest.start, m.window)}
            </span>
          )}
          <span className="grow" />
          <span className="muted">compared with</span>
          <div className="seg" role="group" aria-label="Compare each window with">
            {(['reference', 'previous'] as const).map((c) => (
              <button key={c} aria-pressed={compare === c} onClick={() => setCompare(c)}>
                {c === 'reference' ? 'the reference' : 'the previous window'}
              </button>
            ))}
          </div>
        </div>
        {!windows ? (
          !wins.error && <Loading what="Loading the windows" />
        ) : windows.length === 0 ? (
          <p className="muted" data-testid="no-windows">
            No {compare === 'previous' ? 'two consecutive windows' : 'windows'} yet: log predictions with <code>kiln monitors log {m.name} FILE</code>
            {m.deployment ? ', or send requests to the deployment' : ''}.
          </p>
        ) : (
          <Heatmap rows={rows} windows={windows} window={m.window} selected={selected} onSelect={select} />
        )}
      </section>

      {selected && <Overlay monitor={m.name} window={m.window} column={selected.column} start={selected.start} compare={compare} />}
      {windows && <PredictionCharts monitor={m} windows={windows} />}
      {windows && <PerformanceCharts monitor={m} windows={windows} />}
      <Alerts monitor={m} alerts={alerts.data} error={alerts.error} />
    </div>
  );
}
