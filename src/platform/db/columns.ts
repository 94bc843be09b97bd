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
