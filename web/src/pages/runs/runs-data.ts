import { ApiError, post } from '../../lib/api';
import type { Run } from '../../../../src/tracking/schemas';
import { columnField, groupFilter, type ColumnId } from '../../logic/runs-view';
import { quoteValue } from '../../logic/filter-suggest';
import { treeRows, type TreeRow } from '../../logic/run-tree';

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

/**
 * A row: a group header, or a run (`index` in its segment). A loaded run row carries its place in the tree of
 * nested runs: its depth and how many runs are nested right under it (and whether they are shown).
 */
export type Row = { kind: 'group'; seg: Segment; expanded: boolean } | { kind: 'run'; seg: Segment; index: number; depth?: number; children?: number; expanded?: boolean };

/** A stretch of consecutive rows: a group header (page -1), or one page of a segment (its visible rows). */
interface Block {
  start: number;
  seg: Segment;
  page: number;
  size: number;
}

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
  /** Runs whose nested runs are shown (collapsed by default). */
  private expandedRuns = new Set<string>();
  /** The visible rows of each loaded page (nested runs hidden under collapsed parents). */
  private readonly trees = new Map<string, TreeRow[]>();
  private blocks: Block[] = [];
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
      this.expandedRuns = reuse.expandedRuns;
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

  /**
   * The rows as blocks: per segment its header (grouped) and, when open, one block per page. A page not loaded yet
   * stands for all its runs (placeholder rows); a loaded one for its visible rows, which are fewer when it nests
   * runs under collapsed parents. Pages are at most a few hundred, so this is redone whenever one arrives.
   */
  private layout() {
    this.blocks = [];
    let n = 0;
    for (const s of this.segments) {
      if (this.group) {
        this.blocks.push({ start: n, seg: s, page: -1, size: 1 });
        n++;
      }
      if (this.collapsed.has(s.id)) continue;
      const pages = Math.ceil(s.count / PAGE);
      for (let p = 0; p < pages; p++) {
        const size = this.trees.get(`${s.id}#${p}`)?.length ?? Math.min(PAGE, s.count - p * PAGE);
        this.blocks.push({ start: n, seg: s, page: p, size });
        n += size;
      }
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

  /** Shows or hides the runs nested under a run. */
  toggleRun(seg: Segment, index: number) {
    const page = Math.floor(index / PAGE);
    const id = `${seg.id}#${page}`;
    const runs = this.pages.get(id);
    const run = runs?.[index % PAGE];
    if (!runs || !run) return;
    if (this.expandedRuns.has(run.run_id)) this.expandedRuns.delete(run.run_id);
    else this.expandedRuns.add(run.run_id);
    this.trees.set(id, treeRows(runs, this.expandedRuns));
    this.layout();
    this.onChange();
  }

  rowAt(i: number): Row | undefined {
    // A binary search over the blocks' starting rows.
    let lo = 0;
    let hi = this.blocks.length - 1;
    if (hi < 0 || i < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.start <= i) lo = mid;
      else hi = mid - 1;
    }
    const b = this.blocks[lo]!;
    const k = i - b.start;
    if (k >= b.size) return undefined;
    if (b.page < 0) return { kind: 'group', seg: b.seg, expanded: !this.collapsed.has(b.seg.id) };
    const tree = this.trees.get(`${b.seg.id}#${b.page}`);
    if (!tree) return { kind: 'run', seg: b.seg, index: b.page * PAGE + k };
    const t = tree[k]!;
    return { kind: 'run', seg: b.seg, index: b.page * PAGE + t.i, depth: t.depth, children: t.children, expanded: t.expanded };
  }

  run(seg: Segment, index: number): Run | undefined {
    return this.pages.get(`${seg.id}#${Math.floor(index / PAGE)}`)?.[index % PAGE];
  }

  /** Loads the pages behind rows [from, to] (and one page ahead); pages no longer wanted leave the queue. */
  want(from: number, to: number) {
    this.anchor = from;
    if (!this.ready) return;
    const wanted: [Segment, number][] = [];
    const seen = new Set<string>();
    const add = (seg: Segment, page: number) => {
      const id = `${seg.id}#${page}`;
      if (page * PAGE >= seg.count || seen.has(id) || this.pages.has(id) || this.inFlight.has(id)) return;
      seen.add(id);
      wanted.push([seg, page]);
    };
    // Every row on screen (a few dozen): a page that nests most of its runs can take fewer rows than the screen.
    for (let i = from; i <= to; i++) this.addRow(i, add);
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
    const id = `${seg.id}#${page}`;
    const tree = treeRows(r.runs, this.expandedRuns);
    // A page above the first row on screen that nests runs takes fewer rows than its placeholders did: the rows on
    // screen move up by the difference, which the table takes back by scrolling (see `shift`).
    const b = this.blocks.find((x) => x.seg.id === seg.id && x.page === page);
    if (b && b.start + b.size <= this.anchor) this.shift += b.size - tree.length;
    this.pages.set(id, r.runs);
    this.trees.set(id, tree);
    this.layout();
  }

  /** The first row on screen (set by want). */
  private anchor = 0;
  /** Rows removed above the anchor since the table last scrolled to make up for it. */
  shift = 0;

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
