/** Routes the rows of one or more sources into per-column accumulators (one logical table). */
import { invalid } from '../../platform/errors.js';
import { ColumnAccumulator, type ResolvedOptions } from './column.js';

/**
 * Where the streaming readers push rows: the profiler's TableBuilder, or another consumer of the same readers (the
 * monitoring capability counts rows into its bins through it).
 */
export interface RowSink {
  /** Declares a fixed header (CSV, parquet); returns, per position in the source, the sink's column index. */
  setHeader(names: string[], source: string): number[];
  /** One row of text fields; `map[i]` is the column of field i (identity when null). */
  addTextRow(row: readonly string[], map: readonly number[] | null): void;
  /** One row of typed values in a fixed column order (parquet). */
  addValueRow(row: readonly unknown[], map: readonly number[]): void;
  /** One JSON object (absent keys are missing values). */
  addObject(obj: Record<string, unknown>): void;
  /** Column `index` is stored as floating point (parquet FLOAT/DOUBLE). */
  markFloat(index: number): void;
}

export class TableBuilder implements RowSink {
  readonly columns: ColumnAccumulator[] = [];
  private readonly index = new Map<string, number>();
  private stamps: number[] = [];
  /** Name of the source that fixed the header, for error messages. */
  private headerSource: string | null = null;
  rows = 0;

  constructor(private readonly opts: ResolvedOptions) {}

  private addColumn(name: string): number {
    const i = this.columns.length;
    const col = new ColumnAccumulator(name, this.opts, 0x9e3779b9 ^ (i + 1));
    if (this.rows > 0) col.addMissing(this.rows);
    this.columns.push(col);
    this.index.set(name, i);
    this.stamps.push(-1);
    return i;
  }

  /**
   * Declares the header of a fixed-header source (CSV, parquet). The first one defines the columns; later
   * ones must have the same names (in any order). Returns, per position in this source, the column index.
   */
  setHeader(names: string[], source: string): number[] {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw invalid(`${source}: duplicate column name "${n}" in the header`, { source, column: n });
      seen.add(n);
    }
    if (this.headerSource === null && this.columns.length === 0) {
      this.headerSource = source;
      return names.map((n) => this.addColumn(n));
    }
    const expected = this.columns.map((c) => c.name);
    const missing = expected.filter((n) => !seen.has(n));
    const unexpected = names.filter((n) => !this.index.has(n));
    if (missing.length || unexpected.length) {
      const parts = [];
      if (missing.length) parts.push(`missing ${missing.map((n) => JSON.stringify(n)).join(', ')}`);
      if (unexpected.length) parts.push(`unexpected ${unexpected.map((n) => JSON.stringify(n)).join(', ')}`);
      throw invalid(`${source}: columns differ from ${this.headerSource ?? 'the first source'}: ${parts.join('; ')}`, {
        source,
        first_source: this.headerSource,
        missing_columns: missing,
        unexpected_columns: unexpected,
      });
    }
    return names.map((n) => this.index.get(n)!);
  }

  markFloat(index: number): void {
    this.columns[index]!.markFloat();
  }

  /** One row of text fields; `map[i]` is the column of field i (identity when null). */
  addTextRow(row: readonly string[], map: readonly number[] | null): void {
    const cols = this.columns;
    if (map === null) {
      for (let i = 0; i < row.length; i++) cols[i]!.addText(row[i]!);
    } else {
      for (let i = 0; i < row.length; i++) cols[map[i]!]!.addText(row[i]!);
    }
    this.rows++;
  }

  /** One row of typed values in a fixed column order (parquet). */
  addValueRow(row: readonly unknown[], map: readonly number[]): void {
    const cols = this.columns;
    for (let i = 0; i < row.length; i++) cols[map[i]!]!.addValue(row[i]);
    this.rows++;
  }

  /** One JSON object: absent keys are missing values, new keys become new columns (missing before). */
  addObject(obj: Record<string, unknown>): void {
    const row = this.rows;
    for (const key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const i = this.index.get(key) ?? this.addColumn(key);
      this.columns[i]!.addValue(obj[key]);
      this.stamps[i] = row;
    }
    const stamps = this.stamps;
    for (let i = 0; i < stamps.length; i++) if (stamps[i] !== row) this.columns[i]!.addMissing();
    this.rows++;
  }
}
