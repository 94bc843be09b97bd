import { useSearchParams } from 'react-router-dom';
import { X_MODES, type XMode } from '../logic/chart-data';

export interface ChartSettings {
  x: XMode;
  log: boolean;
  smoothing: number;
}

/** Chart settings shared by every chart of a page, kept in the URL (?x=step|wall|relative&log=1&smooth=0.6). */
export function useChartSettings(): [ChartSettings, (patch: Partial<ChartSettings>) => void] {
  const [params, setParams] = useSearchParams();
  const x = (X_MODES as readonly string[]).includes(params.get('x') ?? '') ? (params.get('x') as XMode) : 'step';
  const smoothing = Math.min(0.99, Math.max(0, Number(params.get('smooth') ?? 0) || 0));
  const settings: ChartSettings = { x, log: params.get('log') === '1', smoothing };
  const update = (patch: Partial<ChartSettings>) =>
    setParams(
      (p) => {
        const next = { ...settings, ...patch };
        if (next.x === 'step') p.delete('x');
        else p.set('x', next.x);
        if (next.log) p.set('log', '1');
        else p.delete('log');
        if (next.smoothing > 0) p.set('smooth', String(next.smoothing));
        else p.delete('smooth');
        return p;
      },
      { replace: true },
    );
  return [settings, update];
}

const LABELS: Record<XMode, string> = { step: 'Step', wall: 'Wall time', relative: 'Relative time' };

export function ChartControls({ settings, onChange }: { settings: ChartSettings; onChange: (p: Partial<ChartSettings>) => void }) {
  return (
    <div className="chart-controls" role="group" aria-label="Chart settings">
      <span className="seg" role="group" aria-label="X axis">
        {X_MODES.map((m) => (
          <button key={m} aria-pressed={settings.x === m} onClick={() => onChange({ x: m })}>
            {LABELS[m]}
          </button>
        ))}
      </span>
      <label>
        <input type="checkbox" checked={settings.log} onChange={(e) => onChange({ log: e.target.checked })} /> Log scale
      </label>
      <label>
        Smoothing
        <input type="range" min={0} max={0.99} step={0.01} value={settings.smoothing} aria-label="Smoothing" onChange={(e) => onChange({ smoothing: Number(e.target.value) })} />
        <span className="mono" style={{ width: 32 }}>
          {settings.smoothing.toFixed(2)}
        </span>
      </label>
    </div>
  );
}
