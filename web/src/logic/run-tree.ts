/**
 * Nested runs in the runs table: a run whose `mlflow.parentRunId` tag names another run of the same page is shown
 * under it (collapsed by default, with a count); a run whose parent is not on the page stays at the top level.
 * Pure; unit-tested.
 */

export const PARENT_TAG = 'mlflow.parentRunId';

export interface TreeRun {
  readonly run_id: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** One visible row of a page: the run's position in the page, its depth, how many runs are nested right under it. */
export interface TreeRow {
  readonly i: number;
  readonly depth: number;
  readonly children: number;
  readonly expanded: boolean;
}

/**
 * The rows of one page in display order: each top-level run followed, when expanded, by its children (and theirs),
 * siblings keeping the page's order (which is the table's sort). A run is its own root when its parent is absent,
 * itself, or part of a cycle.
 */
export function treeRows(runs: readonly TreeRun[], expanded: ReadonlySet<string>): TreeRow[] {
  const index = new Map<string, number>();
  runs.forEach((r, i) => index.set(r.run_id, i));
  const kids = new Map<number, number[]>();
  const parentOf = (i: number): number | undefined => {
    const p = runs[i]!.tags[PARENT_TAG];
    const j = p === undefined ? undefined : index.get(p);
    return j === undefined || j === i ? undefined : j;
  };
  // A run is nested when following its parents ends at a root (no cycle).
  const nested = runs.map((_, i) => {
    const seen = new Set<number>([i]);
    for (let j = parentOf(i); j !== undefined; j = parentOf(j)) {
      if (seen.has(j)) return false;
      seen.add(j);
    }
    return parentOf(i) !== undefined;
  });
  runs.forEach((_, i) => {
    if (!nested[i]) return;
    const p = parentOf(i)!;
    const l = kids.get(p);
    if (l) l.push(i);
    else kids.set(p, [i]);
  });
  const out: TreeRow[] = [];
  const visit = (i: number, depth: number) => {
    const c = kids.get(i) ?? [];
    const open = c.length > 0 && expanded.has(runs[i]!.run_id);
    out.push({ i, depth, children: c.length, expanded: open });
    if (open) for (const k of c) visit(k, depth + 1);
  };
  runs.forEach((_, i) => {
    if (!nested[i]) visit(i, 0);
  });
  return out;
}
