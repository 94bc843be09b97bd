// Synthetic numeric data for the monitoring benchmark: float columns drawn from a seeded normal pool, written as CSV
// (references, record files) or handed over as columns (counted straight into windows).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '../../src/data/profile/sketch.js';

const POOL_BITS = 16;
const POOL_MASK = (1 << POOL_BITS) - 1;

/** 65,536 standard normal draws (Box–Muller on a seeded PRNG). */
export function normalPool(seed = 7): Float64Array {
  const rnd = mulberry32(seed);
  const pool = new Float64Array(1 << POOL_BITS);
  for (let i = 0; i < pool.length; i++) pool[i] = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  return pool;
}

/** A fast seeded index stream (xorshift32) into the pool. */
function picker(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s & POOL_MASK;
  };
}

/** How column j of a drifted window differs from the reference: features 0–9 shifted by 0.3 sd, 10–14 scaled by 1.5. */
export function drift(j: number): { shift: number; scale: number } {
  return { shift: j < 10 ? 0.3 : 0, scale: j >= 10 && j < 15 ? 1.5 : 1 };
}

/** Fills `out` with `n` values of column `j` (reference distribution, or the drifted one). */
export function fillColumn(out: Float64Array, n: number, j: number, pool: Float64Array, seed: number, drifted: boolean): void {
  const next = picker(seed * 7919 + j * 104729 + 1);
  const { shift, scale } = drifted ? drift(j) : { shift: 0, scale: 1 };
  for (let i = 0; i < n; i++) out[i] = pool[next()]! * scale + shift;
}

/**
 * Writes a CSV of `rows` rows and the given float columns (values with 6 decimals, e.g. -0.123456), optionally drifted
 * and with a leading ISO time column. Values come from 65,536 preformatted draws, so writing 1 GB takes seconds.
 * Resolves with the byte count.
 */
export async function writeFloatCsv(path: string, rows: number, columns: readonly string[], opts: { seed?: number; drifted?: boolean; timeColumn?: string } = {}): Promise<number> {
  const pool = normalPool(opts.seed ?? 11);
  const formatted = columns.map((_, j) => {
    const { shift, scale } = opts.drifted ? drift(j) : { shift: 0, scale: 1 };
    return Array.from(pool, (x) => (x * scale + shift).toFixed(6));
  });
  const next = picker((opts.seed ?? 11) * 31 + 5);
  const out = createWriteStream(path);
  let bytes = 0;
  let buf = (opts.timeColumn ? [opts.timeColumn, ...columns] : columns).join(',') + '\n';
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < rows; i++) {
    let line = opts.timeColumn ? new Date(t0 + i * 10).toISOString() + ',' : '';
    for (let j = 0; j < columns.length; j++) line += (j === 0 ? '' : ',') + formatted[j]![next()]!;
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      bytes += buf.length;
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += buf.length;
  out.end(buf);
  await once(out, 'finish');
  return bytes;
}
