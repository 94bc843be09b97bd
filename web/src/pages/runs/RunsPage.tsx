import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState, type KeyboardEvent, type PointerEvent as ReactPointerEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useVirtualizer } from '@tanstack/react-virtual';
import { enc, get } from '../../lib/api';
import { formatDuration, formatTime, formatValue } from '../../lib/format';
import type { Experiment, Run } from '../../../../src/tracking/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import type { KeyLists } from '../../logic/filter-suggest';
import { columnIdString, defaultColumns, orderBy, parseColumnId, readView, writeView, type ColumnId, type RunsView } from '../../logic/runs-view';
import { ColumnPicker } from './ColumnPicker';
import { FilterBox } from './FilterBox';
import { isBadFilter, RunsData, type Row } from './runs-data';
import { clampWidth, useColumnWidths } from './column-widths';
import './runs.css';

const ROW_HEIGHT = 32;
const LIVE_MS = 3000;

interface AttrColumn {
  id: string;
  label: string;
  width: number;
  sort?: string;
  cell: (r: Run) => ReactNode;
}

const ATTRS: AttrColumn[] = [
  { id: 'name', label: 'Run', width: 220, sort: 'run_name', cell: (r) => <Link to={`/runs/${enc(r.run_id)}`} tabIndex={-1}>{r.run_name || r.run_id.slice(0, 8)}</Link> },
  { id: 'status', label: 'Status', width: 104, sort: 'status', cell: (r) => <span className={`badge status-${r.status}`}>{r.status}</span> },
  { id: 'start', label: 'Started', width: 176, sort: 'start_time', cell: (r) => formatTime(r.start_time) },
  { id: 'duration', label: 'Duration', width: 84, cell: (r) => formatDuration(r.start_time, r.end_time) },
  { id: 'user', label: 'User', width: 100, sort: 'user_id', cell: (r) => r.user_id },
];
const VALUE_WIDTH = 120;
const SHORT = { metrics: 'm', params: 'p', tags: 't' } as const;

/** Where a run sits among nested runs: its depth, how many runs are nested right under it, whether they show. */
interface TreePlace {
  depth: number;
  children: number;
  expanded: boolean;
}

/** The cells of one loaded run; memoized: while scrolling only rows that come into view render. */
const RunCells = memo(function RunCells({
  run,
  checked,
  columns,
  onToggle,
  depth,
  children,
  expanded,
  onToggleTree,
  rowIndex,
}: { run: Run; checked: boolean; columns: readonly ColumnId[]; onToggle: (id: string) => void; onToggleTree: (row: number) => void; rowIndex: number } & TreePlace) {
  const name = run.run_name || run.run_id.slice(0, 8);
  return (
    <>
      <div role="gridcell" className="check">
        <input type="checkbox" tabIndex={-1} aria-label={`Select ${run.run_name}`} checked={checked} onChange={() => onToggle(run.run_id)} />
      </div>
      {ATTRS.map((a) =>
        a.id === 'name' ? (
          <div role="gridcell" key={a.id} className="cell attr-name tree-cell" style={{ paddingLeft: 8 + depth * 18 }} aria-level={depth + 1} data-depth={depth}>
            {children > 0 ? (
              <button className="twisty" tabIndex={-1} aria-expanded={expanded} aria-label={`${expanded ? 'Hide' : 'Show'} ${children} nested ${children === 1 ? 'run' : 'runs'} of ${name}`} onClick={() => onToggleTree(rowIndex)}>
                {expanded ? '▾' : '▸'}
              </button>
            ) : depth > 0 ? (
              <span className="twisty-space" aria-hidden="true">
                └
              </span>
            ) : null}
            {a.cell(run)}
            {children > 0 && (
              <span className="badge child-count" title={`${children} nested ${children === 1 ? 'run' : 'runs'}`}>
                {children}
              </span>
            )}
          </div>
        ) : (
          <div role="gridcell" key={a.id} className={`cell attr-${a.id}`}>
            {a.cell(run)}
          </div>
        ),
      )}
      {columns.map((c) => {
        const v = cellValue(run, c);
        return (
          <div role="gridcell" key={columnIdString(c)} className={c.entity === 'metrics' ? 'cell num mono' : 'cell mono'} title={v}>
            {v}
          </div>
        );
      })}
      <div />
    </>
  );
});

/** The drag handle (and keyboard separator) on a header's right edge that sets the column's width. */
function ResizeHandle({ label, width, onResize }: { label: string; width: number; onResize: (w: number | undefined) => void }) {
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    e.preventDefault();
    e.stopPropagation();
    const el = e.currentTarget;
    const x0 = e.clientX;
    el.setPointerCapture(e.pointerId);
    const move = (ev: PointerEvent) => onResize(clampWidth(width + ev.clientX - x0));
    const up = () => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
  };
  return (
    <div
      className="col-resize"
      role="separator"
      aria-orientation="vertical"
      aria-label={`Resize column ${label}`}
      aria-valuenow={width}
      tabIndex={0}
      title="Drag to resize; double-click to reset"
      onPointerDown={onPointerDown}
      onDoubleClick={() => onResize(undefined)}
      onKeyDown={(e) => {
        if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          e.preventDefault();
          e.stopPropagation();
          onResize(clampWidth(width + (e.key === 'ArrowRight' ? 16 : -16)));
        }
      }}
    />
  );
}

function cellValue(r: Run, c: ColumnId): string {
  if (c.entity === 'metrics') return formatValue(r.metrics[c.key]?.value);
  const v = c.entity === 'params' ? r.params[c.key] : r.tags[c.key];
  return v ?? '—';
}

/** The runs of one experiment: a virtualized table paged from the server, filter, sort, columns, grouping, selection; the URL holds the view. */
export default function RunsPage() {
  const { experimentId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const view = useMemo(() => readView(params), [params]);
  const setView = useCallback((patch: Partial<RunsView>) => setParams((p) => writeView({ ...readView(p), ...patch }), { replace: true }), [setParams]);

  const meta = useApi(
    async (signal) => {
      const [e, k] = await Promise.all([get<{ experiment: Experiment }>(`/experiments/${enc(experimentId)}`, undefined, signal), get<KeyLists>(`/experiments/${enc(experimentId)}/keys`, undefined, signal)]);
      return { experiment: e.experiment, keys: k };
    },
    [experimentId],
  );
  const keys = meta.data?.keys;
  const columns = useMemo(() => view.columns ?? (keys ? defaultColumns(keys) : []), [view.columns, keys]);
  const order = useMemo(() => orderBy(view.sort), [view.sort]);
  const groupKey = view.groupBy ? columnIdString(view.groupBy) : '';

  // The paged data of the current view; a new one when the filter, order or grouping changes.
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const dataRef = useRef<RunsData | undefined>(undefined);
  const data = useMemo(() => {
    const d = new RunsData(experimentId, view.filter, order, view.groupBy, rerender, dataRef.current);
    return d;
    // groupKey stands for view.groupBy, the order's JSON for the order (new arrays, same terms).
  }, [experimentId, view.filter, JSON.stringify(order), groupKey]);
  useEffect(() => {
    dataRef.current = data;
    return () => data.dispose();
  }, [data]);

  const scroller = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: data.total, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 4 });
  const items = virt.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => data.want(first, last), [data, first, last, data.total, data.ready]);

  // Live status: RUNNING rows on screen are re-read every few seconds in one batched search.
  const visible = useRef<{ first: number; last: number }>({ first, last });
  visible.current = { first, last };
  useEffect(() => {
    const t = setInterval(() => {
      const ids: string[] = [];
      for (let i = visible.current.first; i <= visible.current.last; i++) {
        const row = data.rowAt(i);
        const run = row?.kind === 'run' ? data.run(row.seg, row.index) : undefined;
        if (run && (run.status === 'RUNNING' || run.status === 'SCHEDULED')) ids.push(run.run_id);
      }
      data.refresh(ids.slice(0, 200)).catch(() => undefined);
    }, LIVE_MS);
    return () => clearInterval(t);
  }, [data]);

  // Rows above the screen that nested runs under their parents as they loaded: scroll back by as many rows.
  useLayoutEffect(() => {
    if (data.shift !== 0 && scroller.current) {
      scroller.current.scrollTop = Math.max(0, scroller.current.scrollTop - data.shift * ROW_HEIGHT);
      data.shift = 0;
    }
  });

  const [widthOf, setWidth] = useColumnWidths(experimentId);

  const [focus, setFocus] = useState(0);
  const selected = useMemo(() => new Set(view.selected), [view.selected]);
  const toggleSelected = (id: string) => setView({ selected: selected.has(id) ? view.selected.filter((x) => x !== id) : [...view.selected, id] });
  // A stable callback, so rows whose run and selection did not change are not rendered again while scrolling.
  const toggleRef = useRef(toggleSelected);
  toggleRef.current = toggleSelected;
  const onToggle = useCallback((id: string) => toggleRef.current(id), []);
  const dataNow = useRef(data);
  dataNow.current = data;
  const onToggleTree = useCallback((i: number) => {
    const r = dataNow.current.rowAt(i);
    if (r?.kind === 'run') dataNow.current.toggleRun(r.seg, r.index);
  }, []);

  const attrWidths = ATTRS.map((a) => widthOf(a.id, a.width));
  const valueWidths = columns.map((c) => widthOf(columnIdString(c), VALUE_WIDTH));
  const template = `36px ${attrWidths.map((w) => `${w}px`).join(' ')} ${valueWidths.map((w) => `${w}px`).join(' ')} minmax(0, 1fr)`;
  const width = 36 + attrWidths.reduce((n, w) => n + w, 0) + valueWidths.reduce((n, w) => n + w, 0);

  const sortBy = (field: string) => {
    const cur = view.sort;
    // First click: descending for metrics and start time, ascending for names and params; again: reversed.
    const asc = cur?.field === field ? !cur.asc : !(field.startsWith('metrics.') || field === 'start_time');
    setView({ sort: { field, asc } });
  };
  const sortMark = (field: string) => (view.sort?.field === field ? (view.sort.asc ? ' ▲' : ' ▼') : '');
  const ariaSort = (field: string) => (view.sort?.field === field ? (view.sort.asc ? 'ascending' : 'descending') : field === 'start_time' && !view.sort ? 'descending' : 'none');

  const moveFocus = (i: number) => {
    const n = Math.max(0, Math.min(data.total - 1, i));
    setFocus(n);
    virt.scrollToIndex(n, { align: 'auto' });
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if ((e.target as HTMLElement).closest('input, button, a, select')) return;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_HEIGHT) - 2);
    const row = data.rowAt(focus);
    const run = row?.kind === 'run' ? data.run(row.seg, row.index) : undefined;
    const handled = () => e.preventDefault();
    switch (e.key) {
      case 'ArrowDown':
        handled();
        return moveFocus(focus + 1);
      case 'ArrowUp':
        handled();
        return moveFocus(focus - 1);
      case 'PageDown':
        handled();
        return moveFocus(focus + page);
      case 'PageUp':
        handled();
        return moveFocus(focus - page);
      case 'Home':
        handled();
        return moveFocus(0);
      case 'End':
        handled();
        return moveFocus(data.total - 1);
      case 'ArrowRight':
      case 'ArrowLeft':
        // Show or hide the runs nested under the focused run.
        if (row?.kind === 'run' && row.children && row.expanded === (e.key === 'ArrowLeft')) {
          handled();
          data.toggleRun(row.seg, row.index);
        }
        return;
      case 'Enter':
        handled();
        if (row?.kind === 'group') return data.toggle(row.seg);
        if (run) navigate(`/runs/${enc(run.run_id)}`);
        return;
      case ' ':
        handled();
        if (row?.kind === 'group') return data.toggle(row.seg);
        if (run) toggleSelected(run.run_id);
        return;
    }
  };

  if (meta.error) return <ErrorState error={meta.error} retry={meta.reload} />;
  if (!meta.data || !keys) return <Loading what="Loading experiment" />;
  const exp = meta.data.experiment;
  const filterError = isBadFilter(data.error) ? { message: data.error.message, position: data.error.details!.position as number } : undefined;
  const compareHref = `/compare?runs=${view.selected.map(enc).join(',')}`;

  const renderRow = (row: Row | undefined, index: number) => {
    if (!row) return null;
    if (row.kind === 'group') {
      const g = view.groupBy!;
      return (
        <div className="group-cell" role="gridcell" style={{ gridColumn: '1 / -1' }}>
          <button className="twisty" tabIndex={-1} aria-label={`${row.expanded ? 'Collapse' : 'Expand'} group ${row.seg.value ?? '(none)'}`} aria-expanded={row.expanded} onClick={() => data.toggle(row.seg)}>
            {row.expanded ? '▾' : '▸'}
          </button>
          <span className="muted mono">{columnIdString(g)} =</span> <strong className="mono">{row.seg.value ?? '(none)'}</strong> <span className="badge">{row.seg.count.toLocaleString()} runs</span>
        </div>
      );
    }
    const run = data.run(row.seg, row.index);
    if (!run)
      return (
        <div className="placeholder" role="gridcell" style={{ gridColumn: '1 / -1' }} aria-busy="true">
          <span className="skeleton" /> <span className="muted">row {index + 1}</span>
        </div>
      );
    return (
      <RunCells
        run={run}
        checked={selected.has(run.run_id)}
        columns={columns}
        onToggle={onToggle}
        depth={row.depth ?? 0}
        children={row.children ?? 0}
        expanded={row.expanded ?? false}
        onToggleTree={onToggleTree}
        rowIndex={index}
      />
    );
  };

  return (
    <div className="runs-page">
      <div className="runs-head">
        <div className="row">
          <h1 className="grow" style={{ margin: 0 }}>
            <Link to="/experiments" className="muted">
              Experiments
            </Link>{' '}
            <span className="muted">/</span> {exp.name}
          </h1>
          <span className="muted" aria-live="polite">
            {data.ready && !data.error ? `${data.segments.reduce((n, s) => n + s.count, 0).toLocaleString()} runs` : ''}
          </span>
          <Link className={view.selected.length >= 2 ? 'button primary' : 'button disabled'} aria-disabled={view.selected.length < 2} to={compareHref} onClick={(e) => view.selected.length < 2 && e.preventDefault()}>
            Compare ({view.selected.length})
          </Link>
          {view.selected.length > 0 && <button onClick={() => setView({ selected: [] })}>Clear selection</button>}
        </div>
        <div className="row toolbar">
          <FilterBox value={view.filter} keys={keys} error={filterError} onApply={(filter) => setView({ filter })} />
          <ColumnPicker keys={keys} columns={columns} onChange={(c) => setView({ columns: c })} />
          <select
            aria-label="Group by"
            value={groupKey}
            onChange={(e) => {
              const g = parseColumnId(e.target.value);
              setView({ groupBy: g });
            }}
          >
            <option value="">No grouping</option>
            <optgroup label="Params">
              {keys.params.map((k) => (
                <option key={k} value={`params.${k}`}>
                  Group by params.{k}
                </option>
              ))}
            </optgroup>
            <optgroup label="Tags">
              {keys.tags.map((k) => (
                <option key={k} value={`tags.${k}`}>
                  Group by tags.{k}
                </option>
              ))}
            </optgroup>
          </select>
        </div>
      </div>
      {data.error && !filterError ? (
        <ErrorState error={data.error} retry={() => setView({})} />
      ) : filterError ? (
        <Empty>Fix the filter to see runs.</Empty>
      ) : !data.ready ? (
        <Loading what="Loading runs" />
      ) : data.total === 0 ? (
        view.filter ? (
          <Empty>
            No runs match <code>{view.filter}</code>.
          </Empty>
        ) : (
          <Empty>No runs in this experiment yet.</Empty>
        )
      ) : (
        <div className="runs-scroll" ref={scroller} tabIndex={0} role="grid" aria-label="Runs" aria-rowcount={data.total + 1} aria-multiselectable="true" onKeyDown={onKey} aria-activedescendant={`run-row-${focus}`}>
          <div className="runs-header" role="row" style={{ gridTemplateColumns: template, minWidth: width }}>
            <div role="columnheader" className="check" />
            {ATTRS.map((a, i) => (
              <div role="columnheader" key={a.id} aria-sort={a.sort ? ariaSort(a.sort) : undefined} data-column={a.id}>
                {a.sort ? (
                  <button className="sort" onClick={() => sortBy(a.sort!)}>
                    {a.label}
                    {sortMark(a.sort)}
                  </button>
                ) : (
                  a.label
                )}
                <ResizeHandle label={a.label} width={attrWidths[i]!} onResize={(w) => setWidth(a.id, w)} />
              </div>
            ))}
            {columns.map((c, i) => {
              const field = columnIdString(c);
              return (
                <div role="columnheader" key={field} aria-sort={ariaSort(field)} title={field} data-column={field}>
                  <button className="sort mono" onClick={() => sortBy(field)} aria-label={`Sort by ${field}`} title={field}>
                    <span className="muted">{SHORT[c.entity]}.</span>
                    {c.key}
                    {sortMark(field)}
                  </button>
                  <ResizeHandle label={field} width={valueWidths[i]!} onResize={(w) => setWidth(field, w)} />
                </div>
              );
            })}
            <div />
          </div>
          <div style={{ height: virt.getTotalSize(), position: 'relative', minWidth: width }}>
            {items.map((it) => {
              const row = data.rowAt(it.index);
              const run = row?.kind === 'run' ? data.run(row.seg, row.index) : undefined;
              const cls = ['run-row', row?.kind === 'group' ? 'group-row' : '', it.index === focus ? 'focused' : '', run && selected.has(run.run_id) ? 'selected' : ''].join(' ');
              return (
                <div
                  key={it.key}
                  id={`run-row-${it.index}`}
                  role="row"
                  aria-rowindex={it.index + 2}
                  aria-selected={run ? selected.has(run.run_id) : undefined}
                  data-run-id={run?.run_id}
                  className={cls}
                  style={{ transform: `translateY(${it.start}px)`, gridTemplateColumns: template }}
                  onMouseDown={() => setFocus(it.index)}
                >
                  {renderRow(row, it.index)}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
