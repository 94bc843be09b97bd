import { useRef, type KeyboardEvent } from 'react';
import { formatValue } from '../../lib/format';
import { heatCell, labelledColumns, windowLabel } from '../../logic/drift-view';
import type { WindowSummary } from './monitoring';

export interface HeatRow {
  readonly name: string;
  readonly role: 'feature' | 'prediction';
}

export interface Selection {
  readonly column: string;
  readonly start: number;
}

/** Labels printed under the columns at most (the others say theirs in their title). */
const MAX_LABELS = 24;

/** A cell's title: what the window says about the column. */
function cellTitle(row: HeatRow, w: WindowSummary, window: string): string {
  const c = w.columns[row.name];
  const head = `${row.name} · ${windowLabel(w.start, window)} · ${w.rows.toLocaleString()} rows`;
  if (!c || c.statistic === null) return `${head}\nno data`;
  return [
    head,
    c.drifted ? 'DRIFTED' : 'not drifted',
    `${c.method} statistic ${formatValue(c.statistic)}`,
    `PSI ${formatValue(c.psi)}`,
    c.missing_rate ? `missing ${formatValue(c.missing_rate)}` : null,
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * Features and predictions (rows) × windows (columns), each cell coloured by drift: red shades for drifted (darker the
 * larger the PSI), green for not drifted, grey for no data. A cell selects its column and window; the arrow keys move
 * the selection (one tab stop for the whole grid).
 */
export function Heatmap({ rows, windows, window, selected, onSelect }: { rows: readonly HeatRow[]; windows: readonly WindowSummary[]; window: string; selected: Selection | null; onSelect: (s: Selection) => void }) {
  const grid = useRef<HTMLDivElement>(null);
  const labelled = labelledColumns(windows.length, MAX_LABELS);
  const selRow = selected ? rows.findIndex((r) => r.name === selected.column) : -1;
  const selCol = selected ? windows.findIndex((w) => w.start === selected.start) : -1;

  const move = (e: KeyboardEvent<HTMLDivElement>) => {
    const d: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0], Home: [0, -Infinity], End: [0, Infinity] };
    const step = d[e.key];
    if (!step || rows.length === 0 || windows.length === 0) return;
    e.preventDefault();
    const r = Math.min(rows.length - 1, Math.max(0, (selRow < 0 ? 0 : selRow) + step[0]));
    const c = Math.min(windows.length - 1, Math.max(0, (selCol < 0 ? windows.length - 1 : selCol) + step[1]));
    onSelect({ column: rows[r]!.name, start: windows[c]!.start });
    grid.current?.querySelector<HTMLButtonElement>(`[data-row="${r}"][data-col="${c}"]`)?.focus();
  };

  return (
    <div className="heatmap-scroll">
      <div
        ref={grid}
        className="heatmap"
        role="grid"
        aria-label="Drift by feature and window"
        aria-rowcount={rows.length + 1}
        aria-colcount={windows.length + 1}
        style={{ gridTemplateColumns: `minmax(110px, max-content) repeat(${windows.length}, minmax(6px, 32px))` }}
        onKeyDown={move}
      >
        <div role="row" className="heat-row">
          <div role="columnheader" className="heat-corner muted">
            drift share
          </div>
          {windows.map((w) => (
            <div
              key={w.start}
              role="columnheader"
              className={`heat-share${w.dataset_drift ? ' drifted' : ''}`}
              data-testid={`drift-share-${w.start}`}
              data-dataset-drift={String(w.dataset_drift)}
              title={`${windowLabel(w.start, window)}: ${w.rows.toLocaleString()} rows, drift share ${formatValue(w.drift_share)}${w.dataset_drift ? ' (dataset drift)' : ''}`}
            >
              {w.drift_share === null ? '' : Math.round(w.drift_share * 100)}
            </div>
          ))}
        </div>
        {rows.map((row, r) => (
          <div role="row" className="heat-row" key={`${row.role}:${row.name}`}>
            <div role="rowheader" className="heat-name" title={`${row.role} ${row.name}`}>
              <span className="heat-label">{row.name}</span>
              {row.role === 'prediction' && <span className="badge heat-role">prediction</span>}
            </div>
            {windows.map((w, c) => {
              const cell = heatCell(w.columns[row.name]);
              const isSel = r === selRow && c === selCol;
              return (
                <button
                  key={w.start}
                  role="gridcell"
                  className={`heat-cell heat-${cell.state} lvl-${cell.level}${isSel ? ' selected' : ''}`}
                  data-testid={`heat-${row.name}-${w.start}`}
                  data-drifted={cell.state === 'no-data' ? 'unknown' : String(cell.state === 'drifted')}
                  data-row={r}
                  data-col={c}
                  aria-selected={isSel}
                  aria-label={`${row.name}, ${windowLabel(w.start, window)}: ${cell.state === 'no-data' ? 'no data' : cell.state}`}
                  title={cellTitle(row, w, window)}
                  tabIndex={isSel || (selRow < 0 && r === 0 && c === windows.length - 1) ? 0 : -1}
                  onClick={() => onSelect({ column: row.name, start: w.start })}
                />
              );
            })}
          </div>
        ))}
        <div role="row" className="heat-row" aria-hidden="true">
          <div className="heat-corner" />
          {windows.map((w, c) => (
            <div key={w.start} className={`heat-date${c === selCol ? ' selected' : ''}`}>
              {labelled.has(c) || c === selCol ? windowLabel(w.start, window) : ''}
            </div>
          ))}
        </div>
      </div>
      <div className="heat-legend muted" aria-label="Legend">
        <span>
          <i className="heat-cell heat-drifted lvl-1" /> <i className="heat-cell heat-drifted lvl-4" /> drifted (darker: larger PSI)
        </span>
        <span>
          <i className="heat-cell heat-stable lvl-1" /> not drifted
        </span>
        <span>
          <i className="heat-cell heat-no-data lvl-0" /> no data
        </span>
        <span>drift share in % per window on top; red: dataset drift</span>
      </div>
    </div>
  );
}
