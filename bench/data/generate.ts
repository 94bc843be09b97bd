// Synthetic CSV for the profiling benchmark: 20 columns of mixed types with some missing values,
// generated from a seeded PRNG so every run profiles the same bytes.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '../../src/data/profile/sketch.js';

export const BENCH_HEADER = [
  'id', 'age', 'income', 'score', 'ratio', 'count', 'temperature', 'category', 'country', 'status',
  'is_active', 'verified', 'created_at', 'birth_date', 'name', 'email', 'comment', 'level', 'balance', 'code',
];

const CATEGORIES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const COUNTRIES = Array.from({ length: 30 }, (_, i) => `C${String.fromCharCode(65 + (i % 26))}${i}`);
const STATUSES = ['new', 'open', 'closed', 'pending'];
const WORDS = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', 'sed', 'do'];

/** Writes `rows` rows of the benchmark table to `path`; resolves with the byte count. */
export async function writeBenchCsv(path: string, rows: number, seed = 42): Promise<number> {
  const rnd = mulberry32(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const maybe = (p: number, s: string) => (rnd() < p ? '' : s);
  const base = Date.UTC(2020, 0, 1);
  let buf = BENCH_HEADER.join(',') + '\n';
  for (let i = 0; i < rows; i++) {
    const gauss = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    const created = new Date(base + Math.floor(rnd() * 4 * 365 * 86400_000)).toISOString().slice(0, 19) + 'Z';
    const birth = new Date(Date.UTC(1950, 0, 1) + Math.floor(rnd() * 50 * 365 * 86400_000)).toISOString().slice(0, 10);
    const fields = [
      String(i + 1),
      maybe(0.02, String(18 + Math.floor(rnd() * 70))),
      (30000 + gauss * 12000).toFixed(2),
      maybe(0.1, rnd().toFixed(4)),
      (rnd() * rnd()).toPrecision(6),
      String(Math.floor(-Math.log(rnd() + 1e-12) * 10)),
      maybe(0.01, (15 + gauss * 8).toFixed(1)),
      pick(CATEGORIES),
      maybe(0.05, pick(COUNTRIES)),
      pick(STATUSES),
      rnd() < 0.7 ? 'true' : 'false',
      maybe(0.2, rnd() < 0.5 ? 'True' : 'False'),
      created,
      maybe(0.03, birth),
      `user_${Math.floor(rnd() * 200000)}`,
      `u${i}@example.com`,
      maybe(0.3, `"${pick(WORDS)}, ${pick(WORDS)} ${pick(WORDS)}"`),
      String(1 + Math.floor(rnd() * 5)),
      (gauss * 1000).toFixed(3),
      Math.floor(rnd() * 0xffffff).toString(16).padStart(6, '0'),
    ];
    buf += fields.join(',') + '\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return bytes;
}
