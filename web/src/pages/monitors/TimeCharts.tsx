import { useMemo } from 'react';
import type uPlot from 'uplot';
import { UPlotChart, type ChartSeries } from '../../charts/UPlotChart';
import { colorFor } from '../../logic/chart-data';
import { isRowWindow } from '../../logic/drift-view';
import { Snippet } from '../../components/States';
import { METRICS, type Monitor, type WindowSummary } from './monitoring';
import '../../charts/charts.css';

/** x of each window for uPlot: its start in seconds (time windows), or its number (row-count windows). */
function xs(windows: readonly WindowSummary[], window: string): number[] {
  return windows.map((w) => (isRowWindow(window) ? w.start : w.start / 1000));
}

function Chart({ title, testId, windows, window, series }: { title: string; testId: string; windows: readonly WindowSummary[]; window: string; series: readonly { label: string; values: (number | null)[] }[] }) {
  const built = useMemo(() => {
    const s: ChartSeries[] = series.map((x, i) => ({ label: x.label, color: colorFor(i), width: 2, spanGaps: true }));
    return { data: [xs(windows, window), ...series.map((x) => x.values)] as uPlot.AlignedData, series: s };
  }, [windows, window, series]);
  return (
    <div className="chart-card" data-testid={testId}>
      <h3>{title}</h3>
      <UPlotChart title={`${title} chart`} data={built.data} series={built.series} xMode={isRowWindow(window) ? 'step' : 'wall'} height={200} />
    </div>
  );
}

/** Each prediction output's drift per window: its PSI and its method's statistic (compared with the reference or the previous window). */
export function PredictionCharts({ monitor, windows }: { monitor: Monitor; windows: readonly WindowSummary[] }) {
  const charts = useMemo(
    () =>
      monitor.predictions.map((p) => {
        const method = windows.map((w) => w.columns[p.name]?.method).find((m) => m !== undefined) ?? p.method ?? 'statistic';
        return {
          name: p.name,
          series: [
            { label: 'PSI', values: windows.map((w) => w.columns[p.name]?.psi ?? null) },
            { label: `${method} statistic`, values: windows.map((w) => w.columns[p.name]?.statistic ?? null) },
          ],
        };
      }),
    [monitor.predictions, windows],
  );
  return (
    <section className="card mon-section" aria-labelledby="predictions-title">
      <h2 id="predictions-title" className="panel-title">
        Predictions over time
      </h2>
      {monitor.predictions.length === 0 ? (
        <p className="muted">This monitor watches no prediction output (name one with --prediction when creating a monitor).</p>
      ) : windows.length === 0 ? (
        <p className="muted">No windows yet.</p>
      ) : (
        <div className="chart-grid">
          {charts.map((c) => (
            <Chart key={c.name} title={`${c.name}: drift per window`} testId={`prediction-chart-${c.name}`} windows={windows} window={monitor.window} series={c.series} />
          ))}
        </div>
      )}
    </section>
  );
}

/** Realized performance per window (the labeled predictions), and the share of each window's rows that has a label. */
export function PerformanceCharts({ monitor, windows }: { monitor: Monitor; windows: readonly WindowSummary[] }) {
  const labeled = windows.some((w) => (w.performance?.labeled ?? 0) > 0);
  const metrics = useMemo(() => {
    const known = METRICS[monitor.task ?? ''] ?? [];
    const seen = new Set<string>();
    for (const w of windows) for (const [k, v] of Object.entries(w.performance?.metrics ?? {})) if (v !== null && k !== 'label_coverage') seen.add(k);
    const names = [...known.filter((k) => seen.has(k)), ...[...seen].filter((k) => !known.includes(k) && k !== 'log_loss' && k !== 'mape')];
    return names.map((k) => ({ label: k, values: windows.map((w) => ((w.performance?.labeled ?? 0) > 0 ? (w.performance?.metrics[k] ?? null) : null)) }));
  }, [monitor.task, windows]);
  const coverage = useMemo(() => [{ label: 'label coverage', values: windows.map((w) => w.performance?.label_coverage ?? null) }], [windows]);
  return (
    <section className="card mon-section" aria-labelledby="performance-title">
      <h2 id="performance-title" className="panel-title">
        Performance over time
      </h2>
      {monitor.task === null ? (
        <p className="muted">This monitor has no label nor prediction: there is no realized performance to follow.</p>
      ) : !labeled ? (
        <div data-testid="no-labels">
          <p className="muted">
            No labels yet. Send them as they become known, by the request id of each prediction ({monitor.task}
            {monitor.label ? `, label column ${monitor.label}` : ''}):
          </p>
          <Snippet code={`kiln monitors labels ${monitor.name} labels.csv   # request_id,label`} label="Send labels command" />
        </div>
      ) : (
        <div className="chart-grid">
          {metrics.length > 0 && <Chart title={monitor.task === 'regression' ? 'Errors' : 'Metrics'} testId="performance-chart" windows={windows} window={monitor.window} series={metrics} />}
          <Chart title="Label coverage" testId="coverage-chart" windows={windows} window={monitor.window} series={coverage} />
        </div>
      )}
    </section>
  );
}
