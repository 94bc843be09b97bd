import { ApiError, post } from '../../lib/api';
import type { Run } from '../../../../src/tracking/schemas';
import { columnField, groupFilter, type ColumnId } from '../../logic/runs-view';
import { quoteValue } from '../../logic/filter-suggest';

export const PAGE = 200;
/** Pages fetched at once; the rest wait (and are dropped when scrolled past before their turn). */
const CONCURRENCY = 3;

/**
 * One stretch of the table: all matching runs, or (grouped) the runs of one value of the group key.
 *
 * Grouping: one `POST /runs/count` with `group_by` answers every value of the param or tag with its run count
 * under the current filter (runs without the key form a `null` group). Each group is then its own lazily
 * paged search with `<filter> AND params.x = 'v'` (or `IS NULL`), so opening a group of 25,000 runs loads
 * only the pages scrolled into view, exactly like the ungrouped table.
 */
export interface Segment {
  readonly id: string;
  /** Grouped: the value (null = runs without the key); ungrouped: undefined. */
  readonly value?: string | null;
  readonly count: number;
  readonly filter: string;
}

export type Row = { kind: 'group'; seg: Segment; expanded: boolean } | { kind: 'run'; seg: Segment; index: number };

interface Counts {
  count: number;
  groups?: { values: { value: string | null; count: number }[] };
}

/** Paged access to the runs of one view (filter, order, grouping); notifies `onChange` when pages arrive. */
export class RunsData {
  segments: Segment[] = [];
  error: Error | undefined;
  ready = false;
  private readonly pages = new Map<string, Run[]>();
  private readonly inFlight = new Set<string>();
  private queue: [Segment, number][] = [];
  private collapsed = new Set<string>();
  private offsets: number[] = [];
  private disposed = false;

  constructor(
    private readonly experimentId: string,
    private readonly filter: string,
    private readonly order: string[] | undefined,
    readonly group: ColumnId | undefined,
    private readonly onChange: () => void,
    reuse?: RunsData,
  ) {
    // A new order over the same filter and grouping keeps the counts (and the collapsed groups).
    if (reuse && reuse.ready && !reuse.error && reuse.filter === filter && sameGroup(reuse.group, group)) {
      this.segments = reuse.segments;
      this.collapsed = reuse.collapsed;
      this.ready = true;
      this.layout();
      if (!group) this.request(this.segments[0]!, 0);
    } else {
      void this.init();
    }
  }

  dispose() {
    this.disposed = true;
  }

  private async init() {
    const base = { experiment_ids: [this.experimentId], filter: this.filter || undefined };
    try {
      if (this.filter) {
        // Checked first, so a mistake comes back as data: no failed request in the browser's console.
        const check = await post<{ valid: boolean; message?: string; details?: Record<string, unknown> }>('/runs/search/check', { filter: this.filter });
        if (!check.valid) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', check.message ?? 'Invalid filter', check.details);
      }
      if (this.group) {
        const c = await post<Counts>('/runs/count', { ...base, group_by: columnField(this.group) });
        this.segments = (c.groups?.values ?? []).map((g) => ({ id: g.value === null ? 'null' : `v:${g.value}`, value: g.value, count: g.count, filter: groupFilter(this.filter, this.group!, g.value) }));
        if (this.segments.length > 10) for (const s of this.segments) this.collapsed.add(s.id);
      } else {
        // The count and the first page together: the first rows show as soon as the page is back.
        const seg: Segment = { id: 'all', count: 0, filter: this.filter };
        const [c] = await Promise.all([post<Counts>('/runs/count', base), this.fetchPage(seg, 0)]);
        this.segments = [{ ...seg, count: c.count }];
      }
      this.ready = true;
      this.layout();
    } catch (e) {
      this.error = e as Error;
    }
    if (!this.disposed) this.onChange();
  }

  private layout() {
    this.offsets = [];
    let n = 0;
    for (const s of this.segments) {
      this.offsets.push(n);
      n += (this.group ? 1 : 0) + (this.collapsed.has(s.id) ? 0 : s.count);
    }
    this.total = n;
  }

  total = 0;

  isCollapsed(seg: Segment) {
    return this.collapsed.has(seg.id);
  }

  toggle(seg: Segment) {
    if (this.collapsed.has(seg.id)) this.collapsed.delete(seg.id);
    else this.collapsed.add(seg.id);
    this.layout();
    this.onChange();
  }

  rowAt(i: number): Row | undefined {
    // Segments are few (one, or one per group value): a binary search over their starting rows.
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    if (!seg) return undefined;
    let k = i - this.offsets[lo]!;
    if (this.group) {
      if (k === 0) return { kind: 'group', seg, expanded: !this.collapsed.has(seg.id) };
      k--;
    }
    return k < seg.count ? { kind: 'run', seg, index: k } : undefined;
  }

  run(seg: Segment, index: number): Run | undefined {
    return this.pages.get(`${seg.id}#${Math.floor(index / PAGE)}`)?.[index % PAGE];
  }

  /** Loads the pages behind rows [from, to] (and one page ahead); pages no longer wanted leave the queue. */
  want(from: number, to: number) {
    if (!this.ready) return;
    const wanted: [Segment, number][] = [];
    const seen = new Set<string>();
    const add = (seg: Segment, page: number) => {
      const id = `${seg.id}#${page}`;
      if (page * PAGE >= seg.count || seen.has(id) || this.pages.has(id) || this.inFlight.has(id)) return;
      seen.add(id);
      wanted.push([seg, page]);
    };
    for (let i = from; i <= to; i += PAGE / 2) this.addRow(i, add);
    this.addRow(to, add);
    const last = this.rowAt(to);
    if (last?.kind === 'run') add(last.seg, Math.floor(last.index / PAGE) + 1);
    this.queue = wanted;
    this.pump();
  }

  private addRow(i: number, add: (seg: Segment, page: number) => void) {
    const r = this.rowAt(i);
    if (r?.kind === 'run') add(r.seg, Math.floor(r.index / PAGE));
    else if (r?.kind === 'group' && r.expanded) add(r.seg, 0);
  }

  private pump() {
    while (this.inFlight.size < CONCURRENCY && this.queue.length) {
      const [seg, page] = this.queue.shift()!;
      this.request(seg, page);
    }
  }

  private request(seg: Segment, page: number) {
    const id = `${seg.id}#${page}`;
    if (this.pages.has(id) || this.inFlight.has(id)) return;
    this.inFlight.add(id);
    this.fetchPage(seg, page).then(
      () => {
        this.inFlight.delete(id);
        if (this.disposed) return;
        this.onChange();
        this.pump();
      },
      (e: unknown) => {
        this.inFlight.delete(id);
        if (this.disposed) return;
        this.error = e as Error;
        this.onChange();
      },
    );
  }

  private async fetchPage(seg: Segment, page: number) {
    const r = await post<{ runs: Run[] }>('/runs/search', {
      experiment_ids: [this.experimentId],
      filter: seg.filter || undefined,
      order_by: this.order,
      max_results: PAGE,
      offset: page * PAGE,
    });
    this.pages.set(`${seg.id}#${page}`, r.runs);
  }

  /** Refreshes the given runs (one batched search) in place; answers whether any changed. */
  async refresh(runIds: string[]): Promise<boolean> {
    if (runIds.length === 0 || this.disposed) return false;
    const filter = `attributes.run_id IN (${runIds.map(quoteValue).join(', ')})`;
    const r = await post<{ runs: Run[] }>('/runs/search', { experiment_ids: [this.experimentId], filter, max_results: runIds.length });
    const fresh = new Map(r.runs.map((x) => [x.run_id, x]));
    let changed = false;
    for (const rows of this.pages.values()) {
      rows.forEach((old, i) => {
        const n = fresh.get(old.run_id);
        if (n && (n.status !== old.status || n.end_time !== old.end_time || JSON.stringify(n.metrics) !== JSON.stringify(old.metrics))) {
          rows[i] = n;
          changed = true;
        }
      });
    }
    if (changed && !this.disposed) this.onChange();
    return changed;
  }
}

const sameGroup = (a: ColumnId | undefined, b: ColumnId | undefined) => a?.entity === b?.entity && a?.key === b?.key;

export const isBadFilter = (e: unknown): e is ApiError => e instanceof ApiError && e.status === 400 && typeof e.details?.position === 'number';
