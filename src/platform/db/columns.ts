import type { ResultColumns } from './types.js';

/**
 * Rows (arrays, as the drivers' array mode gives them) to columns: a column that holds only numbers becomes a
 * Float64Array (one object, which a worker thread can hand over without copying), any other an array.
 */
export function toColumns(rows: readonly (readonly unknown[])[], width: number): ResultColumns & { readonly columns: (Float64Array | unknown[])[] } {
  const n = rows.length;
  const columns: (Float64Array | unknown[])[] = [];
  for (let j = 0; j < width; j++) {
    const numbers = new Float64Array(n);
    let i = 0;
    for (; i < n; i++) {
      const v = rows[i]![j];
      if (typeof v !== 'number') break;
      numbers[i] = v;
    }
    if (i === n) {
      columns.push(numbers);
      continue;
    }
    const values: unknown[] = new Array(n);
    for (let k = 0; k < n; k++) values[k] = rows[k]![j];
    columns.push(values);
  }
  return { rowCount: n, columns };
}

/**
 * Builds columns one row at a time (rows a driver hands over as they arrive): each row can be forgotten at once, so
 * a long read never holds tens of thousands of small row objects for the garbage collector to copy.
 */
export class ColumnsBuilder {
  private columns: (Float64Array | unknown[])[] = [];
  private rowCount = 0;
  private capacity = 0;

  add(row: readonly unknown[]): void {
    const n = this.rowCount;
    if (n === this.capacity) this.grow(row.length);
    const columns = this.columns;
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      const c = columns[j]!;
      if (!(c instanceof Float64Array)) c[n] = v;
      else if (typeof v === 'number') c[n] = v;
      else {
        const values: unknown[] = Array.from(c.subarray(0, n));
        values[n] = v;
        columns[j] = values;
      }
    }
    this.rowCount = n + 1;
  }

  /** The columns; `width` (the number of columns of the SELECT) matters when no row came. */
  finish(width: number): ResultColumns {
    const n = this.rowCount;
    if (n === 0) return { rowCount: 0, columns: Array.from({ length: width }, () => new Float64Array(0)) };
    return { rowCount: n, columns: this.columns.map((c) => (c instanceof Float64Array ? c.subarray(0, n) : c.slice(0, n))) };
  }

  private grow(width: number): void {
    const capacity = Math.max(256, this.capacity * 2);
    if (this.capacity === 0) this.columns = Array.from({ length: width }, () => new Float64Array(capacity));
    else
      this.columns = this.columns.map((c) => {
        if (!(c instanceof Float64Array)) return c;
        const bigger = new Float64Array(capacity);
        bigger.set(c);
        return bigger;
      });
    this.capacity = capacity;
  }
}
