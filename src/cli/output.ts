/** Output helpers: aligned tables for people, JSON for scripts. */

export interface OutputOptions {
  readonly json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
}

export interface TableOptions {
  /**
   * Columns (by index) printed whole on one line even on a narrow terminal: ids and URIs people copy. Every other
   * column wraps when the table is wider than the terminal; no cell is ever cut short.
   */
  readonly whole?: readonly number[];
  /** The width to fit (a terminal's columns); undefined prints every value on one line, as for a pipe or a file. */
  readonly width?: number;
}

/**
 * A number as people read it: integers exactly, other values at 12 significant digits in their shortest form, so
 * arithmetic noise (0.9490000000000001) prints as 0.949. `--json` keeps the exact value.
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(12)));
}

/** A column-aligned table. With a width, the widest wrappable columns wrap (on spaces where they can) to fit it. */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[], opts: TableOptions = {}): string {
  const cells = rows.map((r) => headers.map((_h, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  if (opts.width !== undefined) fit(widths, headers, opts.width, new Set(opts.whole ?? []));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join(SEP).trimEnd();
  const out = [line(headers), line(widths.map((w) => '-'.repeat(w)))];
  for (const r of cells) {
    const parts = r.map((c, i) => (c.length > widths[i]! ? wrap(c, widths[i]!) : [c]));
    const height = Math.max(...parts.map((p) => p.length));
    for (let k = 0; k < height; k++) out.push(line(parts.map((p) => p[k] ?? '')));
  }
  return out.join('\n') + '\n';
}

const SEP = '  ';
/** A wrapped column keeps at least this many characters (or its header's length). */
const MIN_WRAP = 12;

/** Narrows the widest wrappable columns, one character at a time, until the table fits `width` or none can shrink. */
function fit(widths: number[], headers: readonly string[], width: number, whole: ReadonlySet<number>): void {
  const floor = headers.map((h, i) => (whole.has(i) ? widths[i]! : Math.min(widths[i]!, Math.max(MIN_WRAP, h.length))));
  let total = widths.reduce((a, b) => a + b, 0) + SEP.length * (widths.length - 1);
  while (total > width) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (w > floor[i]! && (widest < 0 || w > widths[widest]!)) widest = i;
    });
    if (widest < 0) return;
    widths[widest]!--;
    total--;
  }
}

/** Splits a cell into lines of at most `width` characters, at the last space of each line when there is one. */
function wrap(s: string, width: number): string[] {
  const lines: string[] = [];
  let rest = s;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length) lines.push(rest);
  return lines;
}

/** Prints a table; on a terminal it fits the terminal's width by wrapping, elsewhere every value is on one line. */
export function printTable(headers: readonly string[], rows: readonly (readonly unknown[])[], opts: Omit<TableOptions, 'width'> = {}): void {
  const width = process.stdout.isTTY ? process.stdout.columns : undefined;
  process.stdout.write(rows.length === 0 ? '(none)\n' : formatTable(headers, rows, { ...opts, width }));
}

function cell(c: unknown): string {
  if (c === null || c === undefined) return '';
  const s = typeof c === 'string' ? c : typeof c === 'number' ? formatNumber(c) : JSON.stringify(c);
  return s.replace(/\s+/g, ' ');
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatDuration(start: number, end: number | null): string {
  if (end === null) return '';
  const s = Math.max(0, Math.round((end - start) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
