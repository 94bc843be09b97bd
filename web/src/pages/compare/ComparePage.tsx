import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatValue } from '../../lib/format';
import type { Run } from '../../../../src/tracking/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { ChartControls, useChartSettings } from '../../charts/settings';
import { CompareMetricChart, type CompareRun } from '../../charts/MetricChart';
import { colorFor, parseValue } from '../../logic/chart-data';
import { diffRows, makeAxis, rampColor } from '../../logic/compare';

type Field = `param:${string}` | `metric:${string}`;
function fieldValue(r: Run, f: string): number | string | undefined {
  const i = f.indexOf(':');
  const kind = f.slice(0, i);
  const key = f.slice(i + 1);
  if (kind === 'param') return r.params[key];
  const m = r.metrics[key];
  return m ? parseValue(m.value) : undefined;
}

/** Runs side by side (?runs=a,b,c): overlaid charts, parallel coordinates, a scatter, and a diff table. */
export default function ComparePage() {
  const [params, setParams] = useSearchParams();
  const ids = useMemo(() => [...new Set((params.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean))], [params]);
  const setParam = (k: string, v: string | null) =>
    setParams(
      (p) => {
        if (v === null || v === '') p.delete(k);
        else p.set(k, v);
        return p;
      },
      { replace: true },
    );
  const runs = useApi((signal) => Promise.all(ids.map((id) => get<{ run: Run }>(`/runs/${enc(id)}`, undefined, signal).then((r) => r.run))), [ids.join(',')]);
  const [adding, setAdding] = useState('');
  const [settings, update] = useChartSettings();

  const header = (
    <div className="row" style={{ marginBottom: 12 }}>
      <h1 className="grow" style={{ margin: 0 }}>
        Compare runs
      </h1>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const id = adding.trim();
          if (id && !ids.includes(id)) setParam('runs', [...ids, id].join(','));
          setAdding('');
        }}
      >
        <input placeholder="Run ID to add" aria-label="Run ID to add" value={adding} onChange={(e) => setAdding(e.target.value)} />
        <button type="submit">Add</button>
      </form>
    </div>
  );
  if (ids.length === 0) return <div>{header}<Empty>No runs chosen. Add run IDs above, or open <Link to="/experiments">an experiment</Link> and pick runs to compare.</Empty></div>;
  if (runs.error) return <div>{header}<ErrorState error={runs.error} retry={runs.reload} /></div>;
  if (!runs.data) return <div>{header}<Loading what="Loading runs" /></div>;
  const rs = runs.data;
  // Colours by position in the compare list: the first runs get the palette's most distinct hues.
  const cruns: CompareRun[] = rs.map((r, i) => ({ run_id: r.run_id, name: r.run_name || r.run_id.slice(0, 8), color: colorFor(i), start_time: r.start_time }));
  const keyCount = new Map<string, number>();
  for (const r of rs) for (const k of Object.keys(r.metrics)) keyCount.set(k, (keyCount.get(k) ?? 0) + 1);
  const metricKeys = [...keyCount.keys()].filter((k) => rs.length === 1 || keyCount.get(k)! > 1).sort();
  const paramKeys = [...new Set(rs.flatMap((r) => Object.keys(r.params)))].sort();
  const allMetricKeys = [...keyCount.keys()].sort();
  const fields: Field[] = [...paramKeys.map((k) => `param:${k}` as Field), ...allMetricKeys.map((k) => `metric:${k}` as Field)];

  return (
    <div>
      {header}
      <div className="row" style={{ flexWrap: 'wrap', marginBottom: 8 }} aria-label="Compared runs">
        {cruns.map((r) => (
          <span key={r.run_id} className="badge" style={{ borderColor: r.color }} data-run-id={r.run_id} data-color={r.color}>
            <span style={{ display: 'inline-block', width: 10, height: 10, background: r.color, borderRadius: 2, marginRight: 6 }} />
            <Link to={`/runs/${enc(r.run_id)}`}>{r.name}</Link>
            <button aria-label={`Remove ${r.name}`} style={{ border: 'none', background: 'none', padding: '0 0 0 6px' }} onClick={() => setParam('runs', ids.filter((i) => i !== r.run_id).join(','))}>
              ×
            </button>
          </span>
        ))}
      </div>

      <h2>Metrics</h2>
      {metricKeys.length === 0 ? (
        <Empty>These runs share no metric.</Empty>
      ) : (
        <>
          <ChartControls settings={settings} onChange={update} />
          <div className="chart-grid">
            {metricKeys.map((k) => (
              <CompareMetricChart key={k} runs={cruns} metricKey={k} settings={settings} refresh={0} />
            ))}
          </div>
        </>
      )}

      <div className="grid2" style={{ marginTop: 8 }}>
        <section aria-label="Parallel coordinates">
          <h2>Parallel coordinates</h2>
          {allMetricKeys.length === 0 && paramKeys.length === 0 ? (
            <Empty>No params or metrics.</Empty>
          ) : (
            <ParallelCoordinates runs={rs} cruns={cruns} paramKeys={paramKeys} metricKeys={allMetricKeys} metric={params.get('pc') ?? allMetricKeys[0] ?? ''} onMetric={(m) => setParam('pc', m)} />
          )}
        </section>
        <section aria-label="Scatter">
          <h2>Scatter</h2>
          {fields.length === 0 ? (
            <Empty>No params or metrics.</Empty>
          ) : (
            <Scatter runs={rs} cruns={cruns} fields={fields} x={params.get('sx') ?? fields[0]!} y={params.get('sy') ?? fields[Math.min(1, fields.length - 1)]!} onChange={(k, v) => setParam(k, v)} />
          )}
        </section>
      </div>

      <DiffTable runs={rs} cruns={cruns} onlyDiff={params.get('diff') === '1'} setOnlyDiff={(v) => setParam('diff', v ? '1' : null)} />
    </div>
  );
}

function ParallelCoordinates({ runs, cruns, paramKeys, metricKeys, metric, onMetric }: { runs: Run[]; cruns: CompareRun[]; paramKeys: string[]; metricKeys: string[]; metric: string; onMetric: (m: string) => void }) {
  const W = 600;
  const H = 300;
  const pad = { l: 40, r: 60, t: 30, b: 30 };
  const axes = [
    ...paramKeys.map((k) => ({ label: k, axis: makeAxis(k, runs.map((r) => r.params[k])) })),
    ...(metric ? [{ label: metric, axis: makeAxis(metric, runs.map((r) => (r.metrics[metric] ? parseValue(r.metrics[metric].value) : undefined))) }] : []),
  ];
  const metricAxis = metric ? axes[axes.length - 1]!.axis : null;
  const xAt = (i: number) => pad.l + (axes.length <= 1 ? 0 : (i * (W - pad.l - pad.r)) / (axes.length - 1));
  const yAt = (t: number) => pad.t + (1 - t) * (H - pad.t - pad.b);
  const tick = (a: (typeof axes)[number]['axis'], t: 0 | 1) => (a.kind === 'numeric' ? formatValue(t ? a.max : a.min) : (t ? a.categories[a.categories.length - 1] : a.categories[0]) ?? '');
  return (
    <div className="card">
      <label className="row" style={{ marginBottom: 6 }}>
        Colour by metric
        <select aria-label="Parallel coordinates metric" value={metric} onChange={(e) => onMetric(e.target.value)}>
          {metricKeys.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>
      <svg className="pc-svg" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`Parallel coordinates of params to ${metric}`}>
        {axes.map((a, i) => (
          <g key={a.label}>
            <line className="axis" x1={xAt(i)} x2={xAt(i)} y1={yAt(0)} y2={yAt(1)} strokeWidth={2} />
            <text x={xAt(i)} y={14} textAnchor="middle" style={{ fontWeight: i === axes.length - 1 && metric ? 700 : 400 }}>
              {a.label}
            </text>
            <text x={xAt(i) + 4} y={yAt(1) + 4}>{tick(a.axis, 1)}</text>
            <text x={xAt(i) + 4} y={yAt(0) + 12}>{tick(a.axis, 0)}</text>
            {a.axis.kind === 'categorical' &&
              a.axis.categories.slice(1, -1).map((c) => (
                <text key={c} x={xAt(i) + 4} y={yAt(a.axis.pos(c) ?? 0) + 4}>
                  {c}
                </text>
              ))}
          </g>
        ))}
        {runs.map((r, ri) => {
          const vals = axes.map((a, i) => (i === axes.length - 1 && metric ? (r.metrics[metric] ? parseValue(r.metrics[metric].value) : undefined) : r.params[a.label]));
          const pts = axes.map((a, i) => ({ x: xAt(i), t: a.axis.pos(vals[i]) }));
          const color = rampColor(metricAxis ? metricAxis.pos(vals[vals.length - 1]) : null);
          const segs: string[] = [];
          let cur = '';
          for (const p of pts) {
            if (p.t === null) {
              if (cur) segs.push(cur);
              cur = '';
            } else cur += `${cur ? 'L' : 'M'}${p.x.toFixed(1)},${yAt(p.t).toFixed(1)}`;
          }
          if (cur) segs.push(cur);
          return (
            <g key={r.run_id} data-run={r.run_id}>
              <title>{cruns[ri]!.name}</title>
              {segs.map((d, k) => (
                <path key={k} d={d} fill="none" stroke={color} strokeWidth={2} opacity={0.85} />
              ))}
              {pts.map((p, k) => (p.t === null ? null : <circle key={k} cx={p.x} cy={yAt(p.t)} r={3} fill={color} />))}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function Scatter({ runs, cruns, fields, x, y, onChange }: { runs: Run[]; cruns: CompareRun[]; fields: Field[]; x: string; y: string; onChange: (k: 'sx' | 'sy', v: string) => void }) {
  const W = 600;
  const H = 300;
  const pad = { l: 60, r: 20, t: 16, b: 36 };
  const ax = makeAxis(x, runs.map((r) => fieldValue(r, x)));
  const ay = makeAxis(y, runs.map((r) => fieldValue(r, y)));
  const px = (t: number) => pad.l + t * (W - pad.l - pad.r);
  const py = (t: number) => pad.t + (1 - t) * (H - pad.t - pad.b);
  const label = (f: string) => f.replace(':', ': ');
  const select = (which: 'sx' | 'sy', value: string, name: string) => (
    <label className="row">
      {name}
      <select aria-label={`Scatter ${name}`} value={value} onChange={(e) => onChange(which, e.target.value)}>
        {fields.map((f) => (
          <option key={f} value={f}>
            {label(f)}
          </option>
        ))}
      </select>
    </label>
  );
  const ticks = (a: typeof ax) => (a.kind === 'numeric' ? [formatValue(a.min), formatValue(a.max)] : [a.categories[0] ?? '', a.categories[a.categories.length - 1] ?? '']);
  const [x0, x1] = ticks(ax);
  const [y0, y1] = ticks(ay);
  return (
    <div className="card">
      <div className="row" style={{ marginBottom: 6 }}>
        {select('sx', x, 'X')}
        {select('sy', y, 'Y')}
      </div>
      <svg className="pc-svg" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`Scatter of ${label(y)} against ${label(x)}`}>
        <line className="axis" x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} />
        <line className="axis" x1={pad.l} x2={pad.l} y1={pad.t} y2={H - pad.b} />
        <text x={pad.l} y={H - pad.b + 14}>{x0}</text>
        <text x={W - pad.r} y={H - pad.b + 14} textAnchor="end">{x1}</text>
        <text x={(W + pad.l) / 2} y={H - 4} textAnchor="middle">{label(x)}</text>
        <text x={pad.l - 4} y={H - pad.b} textAnchor="end">{y0}</text>
        <text x={pad.l - 4} y={pad.t + 8} textAnchor="end">{y1}</text>
        <text x={12} y={(H - pad.b + pad.t) / 2} textAnchor="middle" transform={`rotate(-90 12 ${(H - pad.b + pad.t) / 2})`}>
          {label(y)}
        </text>
        {runs.map((r, i) => {
          const tx = ax.pos(fieldValue(r, x));
          const ty = ay.pos(fieldValue(r, y));
          if (tx === null || ty === null) return null;
          return (
            <circle key={r.run_id} data-run={r.run_id} cx={px(tx)} cy={py(ty)} r={6} fill={cruns[i]!.color} stroke="var(--bg)" strokeWidth={1.5}>
              <title>{`${cruns[i]!.name}: ${label(x)} = ${formatValue(fieldValue(r, x))}, ${label(y)} = ${formatValue(fieldValue(r, y))}`}</title>
            </circle>
          );
        })}
      </svg>
    </div>
  );
}

function DiffTable({ runs, cruns, onlyDiff, setOnlyDiff }: { runs: Run[]; cruns: CompareRun[]; onlyDiff: boolean; setOnlyDiff: (v: boolean) => void }) {
  const [systemTags, setSystemTags] = useState(false);
  const rows = diffRows(runs, { systemTags }).filter((r) => !onlyDiff || r.differs);
  const nDiff = diffRows(runs, { systemTags }).filter((r) => r.differs).length;
  return (
    <section aria-label="Differences">
      <div className="row" style={{ marginTop: 20 }}>
        <h2 className="grow" style={{ margin: 0 }}>
          Params, metrics and tags <span className="muted" style={{ fontWeight: 400 }}>({nDiff} differ)</span>
        </h2>
        <label>
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} /> Only differences
        </label>
        <label>
          <input type="checkbox" checked={systemTags} onChange={(e) => setSystemTags(e.target.checked)} /> System tags
        </label>
      </div>
      {rows.length === 0 ? (
        <Empty>{onlyDiff ? 'No differences.' : 'Nothing logged.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="data-table" aria-label="Diff table" style={{ width: '100%', marginTop: 8 }}>
            <thead>
              <tr>
                <th>Kind</th>
                <th>Key</th>
                {cruns.map((r) => (
                  <th key={r.run_id} style={{ color: r.color }}>
                    {r.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.section}:${row.key}`} className={row.differs ? 'differs' : ''} data-differs={row.differs}>
                  <td className="muted">{row.section}</td>
                  <td className="mono">{row.key}</td>
                  {row.values.map((v, i) => (
                    <td key={i} className="mono">
                      {v === undefined ? <span className="muted">—</span> : formatValue(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
