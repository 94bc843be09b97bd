/** The runs table's view state as it lives in the URL, and the search clauses it implies. Pure; unit-tested. */
import { quoteKey, quoteValue } from './filter-suggest.js';

export type ColumnEntity = 'metrics' | 'params' | 'tags';

export interface ColumnId {
  readonly entity: ColumnEntity;
  readonly key: string;
}

/** Sortable attribute columns (their order_by names). */
export const SORTABLE_ATTRIBUTES = ['run_name', 'status', 'start_time', 'user_id'] as const;

export interface RunsView {
  readonly filter: string;
  /** `metrics.loss`, `params.lr`, `start_time`...; undefined = the server's default (start_time DESC). */
  readonly sort?: { readonly field: string; readonly asc: boolean };
  /** undefined = not chosen yet (defaults apply). */
  readonly columns?: readonly ColumnId[];
  readonly groupBy?: ColumnId;
  readonly selected: readonly string[];
}

const ENTITIES: readonly ColumnEntity[] = ['metrics', 'params', 'tags'];

/** `metrics.val loss` → {metrics, "val loss"} (the key is everything after the first dot). */
export function parseColumnId(s: string): ColumnId | undefined {
  const dot = s.indexOf('.');
  if (dot < 0) return undefined;
  const entity = s.slice(0, dot) as ColumnEntity;
  const key = s.slice(dot + 1);
  return ENTITIES.includes(entity) && key !== '' ? { entity, key } : undefined;
}

export const columnIdString = (c: ColumnId) => `${c.entity}.${c.key}`;

/** The grammar's spelling of a column (`metrics.\`val loss\``). */
export const columnField = (c: ColumnId) => `${c.entity}.${quoteKey(c.key)}`;

export function readView(q: URLSearchParams): RunsView {
  const sortField = q.get('sort');
  const cols = q.getAll('col');
  const group = q.get('group');
  return {
    filter: q.get('filter') ?? '',
    sort: sortField ? { field: sortField, asc: q.get('dir') === 'asc' } : undefined,
    columns: q.has('col') ? cols.filter((c) => c !== '').map(parseColumnId).filter((c): c is ColumnId => c !== undefined) : undefined,
    groupBy: group ? parseColumnId(group) : undefined,
    selected: (q.get('sel') ?? '').split(',').filter(Boolean),
  };
}

/** The URL query for a view (the inverse of readView); `col=` alone records an explicitly empty column choice. */
export function writeView(v: RunsView): URLSearchParams {
  const q = new URLSearchParams();
  if (v.filter) q.set('filter', v.filter);
  if (v.sort) {
    q.set('sort', v.sort.field);
    q.set('dir', v.sort.asc ? 'asc' : 'desc');
  }
  if (v.columns) {
    if (v.columns.length === 0) q.append('col', '');
    for (const c of v.columns) q.append('col', columnIdString(c));
  }
  if (v.groupBy) q.set('group', columnIdString(v.groupBy));
  if (v.selected.length) q.set('sel', v.selected.join(','));
  return q;
}

/** order_by for the search: `metrics.\`val loss\` DESC`. */
export function orderBy(sort: RunsView['sort']): string[] | undefined {
  if (!sort) return undefined;
  const col = parseColumnId(sort.field);
  return [`${col ? columnField(col) : sort.field} ${sort.asc ? 'ASC' : 'DESC'}`];
}

/** The filter that selects one group: the user's filter AND the group's value (IS NULL for runs without it). */
export function groupFilter(filter: string, group: ColumnId, value: string | null): string {
  const cond = value === null ? `${columnField(group)} IS NULL` : `${columnField(group)} = ${quoteValue(value)}`;
  return filter.trim() ? `(${filter}) AND ${cond}` : cond;
}

/** An experiment with at most this many metrics shows all of them by default. */
export const ALL_METRICS_UP_TO = 6;

/**
 * Default columns when the user has chosen none: every metric when there are few (up to ALL_METRICS_UP_TO),
 * else the first four (by name); then the first three params.
 */
export function defaultColumns(keys: { metrics: readonly string[]; params: readonly string[] }): ColumnId[] {
  const metrics = keys.metrics.length <= ALL_METRICS_UP_TO ? keys.metrics : keys.metrics.slice(0, 4);
  return [...metrics.map((key) => ({ entity: 'metrics' as const, key })), ...keys.params.slice(0, 3).map((key) => ({ entity: 'params' as const, key }))];
}
