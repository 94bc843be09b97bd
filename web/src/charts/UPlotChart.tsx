import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import type { XMode } from '../logic/chart-data';

export interface ChartSeries {
  label: string;
  color: string;
  width?: number;
  /** Drawn faintly (the raw curve under a smoothed one). */
  faint?: boolean;
  /** Series that only bound a band: no line, no legend value. */
  bandBound?: boolean;
  /** Join across gaps (compare: runs that logged at different x). */
  spanGaps?: boolean;
}

export interface UPlotChartProps {
  data: uPlot.AlignedData;
  series: ChartSeries[];
  /** Pairs of series indexes (1-based, as in data) to fill between: [upper, lower]. */
  bands?: [number, number][];
  xMode: XMode;
  logY?: boolean;
  height?: number;
  /** A fixed x range (few points: see xRangeFor); undefined = the data's range. */
  xRange?: [number, number];
  /** Label for the chart (screen readers and the title row). */
  title: string;
}

function themeColors() {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return { fg: v('--fg-soft', '#57606a'), grid: v('--border', '#d8dee4'), bg: v('--bg', '#fff') };
}

/** Follows the light/dark theme: bumps when <html data-theme> changes. */
function useThemeVersion(): number {
  const [v, setV] = useState(0);
  useEffect(() => {
    const mo = new MutationObserver(() => setV((x) => x + 1));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return v;
}

function formatRelative(s: number): string {
  const a = Math.abs(s);
  if (a < 60) return `${Number(s.toFixed(1))}s`;
  if (a < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60) ? ` ${Math.round(s % 60)}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60) ? ` ${Math.round((s % 3600) / 60)}m` : ''}`;
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

const STEP_INCRS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

function buildOptions(p: UPlotChartProps, width: number, onDraw: (u: uPlot) => void): uPlot.Options {
  const c = themeColors();
  const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
    stroke: c.fg,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
    font: '11px system-ui, sans-serif',
    ...extra,
  });
  // Steps are whole numbers: their axis ticks are too (1, 2, 5, 10, 20, 50...).
  const xAxis: Partial<uPlot.Axis> = p.xMode === 'relative' ? { values: (_u, splits) => splits.map(formatRelative) } : p.xMode === 'step' ? { incrs: STEP_INCRS } : {};
  return {
    width,
    height: p.height ?? 240,
    pxAlign: 0,
    cursor: { drag: { x: true, y: false }, focus: { prox: 16 } },
    focus: { alpha: 0.4 },
    scales: {
      x: p.xRange ? { time: p.xMode === 'wall', auto: false, range: () => p.xRange! } : { time: p.xMode === 'wall' },
      y: p.logY ? { distr: 3, log: 10 } : {},
    },
    axes: [axis(xAxis), axis({ size: 60 })],
    legend: { show: true, live: true },
    series: [
      { label: p.xMode === 'step' ? 'step' : p.xMode === 'wall' ? 'time' : 'relative', value: p.xMode === 'relative' ? (_u, v) => (v == null ? '—' : formatRelative(v)) : undefined },
      ...p.series.map(
        (s): uPlot.Series =>
          s.bandBound
            ? { label: s.label, stroke: 'transparent', width: 0, points: { show: false }, spanGaps: false, value: (_u, v) => (v == null ? '—' : String(Number(v.toPrecision(6)))) }
            : {
                label: s.label,
                stroke: s.faint ? withAlpha(s.color, 0.3) : s.color,
                width: s.width ?? 1.5,
                spanGaps: s.spanGaps ?? false,
                // Short series show their points: a metric logged once is a dot, not nothing.
                points: { show: (u: uPlot) => (u.data[0]?.length ?? 0) <= 20, size: p.xRange ? 8 : 5, ...(p.xRange ? { fill: s.color } : {}) },
                value: (_u, v) => (v == null ? '—' : String(Number(v.toPrecision(6)))),
              },
      ),
    ],
    bands: (p.bands ?? []).map(([hi, lo]) => ({ series: [hi, lo] as [number, number], fill: withAlpha(p.series[hi - 1]?.color ?? '#888888', 0.18) })),
    hooks: { draw: [onDraw] },
  };
}

/**
 * A uPlot chart that fills its container's width, follows the theme, and marks itself `data-drawn="true"` (and
 * counts draws in `data-draws`) once uPlot has drawn, so tests and benchmarks can wait for it.
 */
export function UPlotChart(props: UPlotChartProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useThemeVersion();
  const propsRef = useRef(props);
  propsRef.current = props;
  const structure = JSON.stringify([props.series, props.bands, props.xMode, props.logY, props.height, props.xRange, theme]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    let draws = 0;
    const onDraw = (u: uPlot) => {
      draws++;
      el.dataset.drawn = 'true';
      el.dataset.draws = String(draws);
      // The x range drawn, for tests to read.
      el.dataset.xMin = String(u.scales.x?.min);
      el.dataset.xMax = String(u.scales.x?.max);
    };
    const u = new uPlot(buildOptions(propsRef.current, Math.max(200, el.clientWidth), onDraw), propsRef.current.data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height: u.height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
      delete el.dataset.drawn;
    };
  }, [structure]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return <div ref={wrap} className="uplot-wrap" role="img" aria-label={props.title} />;
}
