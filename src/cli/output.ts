/** Output helpers: aligned tables for people, JSON for scripts. */

export interface OutputOptions {
  readonly json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
}

export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map((c) => cell(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export function printTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): void {
  process.stdout.write(rows.length === 0 ? '(none)\n' : formatTable(headers, rows));
}

function cell(c: unknown): string {
  if (c === null || c === undefined) return '';
  const s = typeof c === 'string' ? c : typeof c === 'number' ? String(c) : JSON.stringify(c);
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 60 ? flat.slice(0, 59) + '…' : flat;
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
