/** Comparing runs: the diff table's rows and the axes of a parallel-coordinates plot. Pure; tested in compare.test.ts. */
import { parseValue } from './chart-data.js';

export interface RunLike {
  run_id: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, { value: unknown }>;
}

export interface DiffRow {
  section: 'param' | 'metric' | 'tag';
  key: string;
  /** One per run, undefined when the run has no such key. */
  values: (string | number | undefined)[];
  differs: boolean;
}

const sameValue = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a === b || (Number.isNaN(a) && Number.isNaN(b)) : a === b);

/** Params, latest metrics and tags of runs side by side; a row differs when any two runs disagree (missing counts). */
export function diffRows(runs: readonly RunLike[], opts: { systemTags?: boolean } = {}): DiffRow[] {
  const rows: DiffRow[] = [];
  const add = (section: DiffRow['section'], pick: (r: RunLike) => Record<string, unknown>, conv: (v: unknown) => string | number) => {
    const keys = new Set<string>();
    for (const r of runs) for (const k of Object.keys(pick(r))) keys.add(k);
    for (const key of [...keys].sort()) {
      if (section === 'tag' && !opts.systemTags && key.startsWith('mlflow.')) continue;
      const values = runs.map((r) => (key in pick(r) ? conv(pick(r)[key]) : undefined));
      const differs = values.some((v) => !sameValue(v, values[0]));
      rows.push({ section, key, values, differs });
    }
  };
  add('param', (r) => r.params, (v) => String(v));
  add('metric', (r) => r.metrics, (v) => parseValue((v as { value: unknown }).value));
  add('tag', (r) => r.tags, (v) => String(v));
  return rows;
}

export interface Axis {
  key: string;
  kind: 'numeric' | 'categorical';
  /** numeric: [min, max]; categorical: the sorted categories. */
  min: number;
  max: number;
  categories: string[];
  /** Position in [0, 1] of a run's value (0 = bottom), or null when missing / not finite. */
  pos: (v: string | number | undefined) => number | null;
}

/** An axis over the values runs have for one key: numeric when every present value parses as a finite number. */
export function makeAxis(key: string, values: readonly (string | number | undefined)[]): Axis {
  const present = values.filter((v): v is string | number => v !== undefined && v !== '');
  const nums = present.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (present.length > 0 && nums.every((n) => Number.isFinite(n))) {
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    return {
      key,
      kind: 'numeric',
      min,
      max,
      categories: [],
      pos: (v) => {
        if (v === undefined || v === '') return null;
        const n = typeof v === 'number' ? v : Number(v);
        if (!Number.isFinite(n)) return null;
        return max === min ? 0.5 : (n - min) / (max - min);
      },
    };
  }
  const categories = [...new Set(present.map(String))].sort();
  return {
    key,
    kind: 'categorical',
    min: 0,
    max: Math.max(0, categories.length - 1),
    categories,
    pos: (v) => {
      if (v === undefined) return null;
      const i = categories.indexOf(String(v));
      if (i < 0) return null;
      return categories.length === 1 ? 0.5 : i / (categories.length - 1);
    },
  };
}

/** A colour from blue (0) to red (1) for a position on the metric's axis; grey when missing. */
export function rampColor(t: number | null): string {
  if (t === null) return '#888888';
  const c = Math.max(0, Math.min(1, t));
  const a = [37, 99, 235];
  const b = [220, 38, 38];
  const m = a.map((x, i) => Math.round(x + (b[i]! - x) * c));
  return `rgb(${m[0]}, ${m[1]}, ${m[2]})`;
}
