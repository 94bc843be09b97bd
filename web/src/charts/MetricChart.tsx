import { useMemo, useRef, useState, useLayoutEffect } from 'react';
import type uPlot from 'uplot';
import { get, enc } from '../lib/api';
import { useApi } from '../lib/useApi';
import { colorFor, ema, forLog, maxPointsFor, mergeCurves, toCurve, xRangeFor } from '../logic/chart-data';
import { formatValue } from '../lib/format';
import type { MetricHistory } from '../../../src/tracking/schemas';
import { UPlotChart, type ChartSeries } from './UPlotChart';
import type { ChartSettings } from './settings';

/** The chart's width before it draws, to ask the server for about two points per pixel. */
function useInitialWidth(): [React.RefObject<HTMLDivElement | null>, number | null] {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState<number | null>(null);
  useLayoutEffect(() => {
    setW(ref.current?.clientWidth ?? 600);
  }, []);
  return [ref, w];
}

export function fetchHistory(runId: string, key: string, maxPoints: number, signal?: AbortSignal): Promise<MetricHistory> {
  return get<MetricHistory>(`/runs/${enc(runId)}/metric-history`, { key, max_points: maxPoints }, signal);
}

/** One metric of one run: the curve, its min/max band when downsampled, and its smoothed curve. */
export function RunMetricChart({ runId, metricKey, settings, t0Ms, refresh }: { runId: string; metricKey: string; settings: ChartSettings; t0Ms: number; refresh: number }) {
  const [ref, width] = useInitialWidth();
  const maxPoints = width === null ? 0 : maxPointsFor(width);
  const hist = useApi((signal) => (maxPoints ? fetchHistory(runId, metricKey, maxPoints, signal) : new Promise<MetricHistory>(() => {})), [runId, metricKey, maxPoints, refresh]);
  const built = useMemo(() => {
    if (!hist.data) return null;
    const c = toCurve(hist.data, settings.x, { t0Ms, maxPoints });
    const fix = (y: (number | null)[]) => (settings.log ? forLog(y) : y);
    const color = colorFor(0);
    const series: ChartSeries[] = [];
    const data: (number | null)[][] = [c.x];
    const bands: [number, number][] = [];
    if (c.hi && c.lo) {
      series.push({ label: 'max', color, bandBound: true }, { label: 'min', color, bandBound: true });
      data.push(fix(c.hi), fix(c.lo));
      bands.push([1, 2]);
    }
    if (settings.smoothing > 0) {
      series.push({ label: `${metricKey} (raw)`, color, faint: true, width: 1 }, { label: metricKey, color, width: 2 });
      data.push(fix(c.y), fix(ema(c.y, settings.smoothing)));
    } else {
      series.push({ label: metricKey, color });
      data.push(fix(c.y));
    }
    const total = hist.data.total_points ?? hist.data.steps.length;
    // A metric logged once: its value and step as text, beside a chart that shows the point.
    const single = total === 1 && hist.data.steps.length === 1 ? { value: hist.data.values[0], step: hist.data.steps[0] } : undefined;
    return { data: data as uPlot.AlignedData, series, bands, curve: c, total, downsampled: hist.data.downsampled, xRange: xRangeFor(c.x, settings.x), single };
  }, [hist.data, settings.x, settings.log, settings.smoothing, t0Ms, maxPoints, metricKey]);

  return (
    <div className="chart-card" data-metric={metricKey}>
      <h3>
        {metricKey}
        {built && (
          <span className="muted" style={{ fontWeight: 400, fontSize: 12 }}>
            {built.total.toLocaleString()} {built.total === 1 ? 'point' : 'points'}{built.downsampled ? `, ${built.curve.x.length.toLocaleString()} drawn (min/max per range)` : ''}
            {built.curve.nonFinite > 0 ? `, ${built.curve.nonFinite} NaN/∞ not drawn` : ''}
          </span>
        )}
      </h3>
      <div ref={ref}>
        {hist.error ? (
          <div className="error-text" role="alert">
            {hist.error.message}
          </div>
        ) : !built ? (
          <div className="state" style={{ height: 240 }}>
            <span className="spinner" />
          </div>
        ) : built.curve.x.length === 0 ? (
          <div className="state" style={{ height: 240 }}>
            No points.
          </div>
        ) : (
          <>
            {built.single && (
              <p className="single-value" aria-label={`${metricKey} value`}>
                <span className="mono">{formatValue(built.single.value)}</span> <span className="muted">at step {built.single.step}</span>
              </p>
            )}
            <UPlotChart title={`${metricKey} chart`} data={built.data} series={built.series} bands={built.bands} xMode={settings.x} logY={settings.log} xRange={built.xRange} height={built.single ? 200 : undefined} />
          </>
        )}
      </div>
    </div>
  );
}

export interface CompareRun {
  run_id: string;
  name: string;
  color: string;
  start_time: number;
}

/** One metric of several runs, overlaid on one x axis (one series per run, in the run's colour). */
export function CompareMetricChart({ runs, metricKey, settings, refresh }: { runs: CompareRun[]; metricKey: string; settings: ChartSettings; refresh: number }) {
  const [ref, width] = useInitialWidth();
  const maxPoints = width === null ? 0 : maxPointsFor(width);
  const ids = runs.map((r) => r.run_id).join(',');
  const hists = useApi(
    (signal) => (maxPoints ? Promise.all(runs.map((r) => fetchHistory(r.run_id, metricKey, maxPoints, signal).catch(() => null))) : new Promise<(MetricHistory | null)[]>(() => {})),
    [ids, metricKey, maxPoints, refresh],
  );
  const built = useMemo(() => {
    if (!hists.data) return null;
    const present = runs.map((r, i) => ({ r, h: hists.data![i] })).filter((x): x is { r: CompareRun; h: MetricHistory } => !!x.h && x.h.steps.length > 0);
    const curves = present.map(({ r, h }) => {
      const c = toCurve(h, settings.x, { t0Ms: r.start_time, maxPoints });
      let y = settings.smoothing > 0 ? ema(c.y, settings.smoothing) : c.y;
      if (settings.log) y = forLog(y);
      return { x: c.x, y };
    });
    const m = mergeCurves(curves);
    return {
      xRange: xRangeFor(m.x, settings.x),
      data: [m.x, ...m.ys] as uPlot.AlignedData,
      series: present.map(({ r }): ChartSeries => ({ label: r.name, color: r.color, spanGaps: true })),
    };
  }, [hists.data, settings.x, settings.log, settings.smoothing, maxPoints, ids]);
  return (
    <div className="chart-card" data-metric={metricKey}>
      <h3>{metricKey}</h3>
      <div ref={ref}>
        {hists.error ? (
          <div className="error-text" role="alert">
            {hists.error.message}
          </div>
        ) : !built ? (
          <div className="state" style={{ height: 240 }}>
            <span className="spinner" />
          </div>
        ) : built.series.length === 0 ? (
          <div className="state">No points.</div>
        ) : (
          <UPlotChart title={`${metricKey} chart`} data={built.data} series={built.series} xMode={settings.x} logY={settings.log} xRange={built.xRange} />
        )}
      </div>
    </div>
  );
}
