import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readSource } from '../data/profile/index.js';
import type { CategoricalReference, ColumnReference, NumericReference } from './counts.js';
import { IngestSink, type CountingPlan } from './ingest.js';
import { parseWindow } from './windows.js';

const num = (name: string, edges: number[]): NumericReference => ({ name, kind: 'numeric', edges, counts: new Array(edges.length + 1).fill(0), missing: 0, invalid: 0, mean: 0, std: 1, unique: 10, percentiles: [] });
const cat = (name: string, categories: string[]): CategoricalReference => ({ name, kind: 'categorical', categories, counts: new Array(categories.length + 1).fill(0), missing: 0, invalid: 0, unique: categories.length, numeric: false });
const refs: ColumnReference[] = [num('x', [-1, -0.5, 0, 0.25, 1]), num('y', [0, 10, 100]), cat('c', ['a', 'b', 'é'])];
const plan = (timeColumn: string | null): CountingPlan => ({ monitorPk: 1, refs, window: parseWindow('1d'), timeColumn, label: 'label', prediction: null, score: null });

function csv(rows: number, seed: number): string {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const lines = ['day,x,y,c,request_id,label,extra'];
  for (let i = 0; i < rows; i++) {
    const x = r() < 0.05 ? ['', 'NA', 'NaN', 'inf', 'abc', '1e-3', '-0'][i % 7]! : ((r() - 0.5) * 3).toFixed(1 + (i % 9));
    const y = r() < 0.05 ? '' : String(Math.floor(r() * 150));
    const c = ['a', 'b', 'é', 'zz', ''][i % 5]!;
    lines.push(`2024-01-0${1 + (i % 3)},${x},${y},${c},${i % 4 === 0 ? `r${i}` : ''},${i % 6 === 0 ? 'yes' : ''},${i}`);
  }
  return lines.join(i2(seed)) + '\n';
}
const i2 = (seed: number) => (seed % 2 === 0 ? '\n' : '\r\n');

test('a quote-free CSV read from its bytes counts exactly what the general reader counts', async () => {
  for (const seed of [1, 2, 3]) {
    const text = csv(3000, seed);
    const fast = new IngestSink(plan('day'), 0);
    // Chunks cut anywhere, across lines and multi-byte characters.
    const bytes = Buffer.from(text, 'utf8');
    const chunks = [] as Buffer[];
    for (let i = 0; i < bytes.length; i += 777) chunks.push(bytes.subarray(i, i + 777));
    await fast.readPlainCsv(Readable.from(chunks), 'a.csv', 44);
    const general = new IngestSink(plan('day'), 0);
    await readSource({ name: 'a.csv', format: 'csv', open: () => Readable.from([bytes]) }, general);
    assert.equal(fast.rows, 3000);
    assert.equal(fast.rows, general.rows);
    assert.deepEqual([...fast.windows.keys()], [...general.windows.keys()]);
    for (const [k, w] of fast.windows) assert.deepEqual(w.toCounts(), general.windows.get(k)!.toCounts(), `window ${k}`);
    assert.deepEqual(fast.kept, general.kept);
    assert.deepEqual([...fast.ignored], ['extra']);
  }
});

test('a quote-free CSV with a ragged line or no monitored column is refused with the line', async () => {
  const run = (text: string) => new IngestSink(plan(null), 0).readPlainCsv(Readable.from([Buffer.from(text)]), 'b.csv', 44);
  await assert.rejects(run('x,y\n1,2\n3\n'), /b\.csv: line 3 has 1 field, the header has 2/);
  await assert.rejects(run('p,q\n1,2\n'), /none of the monitored columns/);
  await assert.rejects(run(''), /empty file/);
  const tsv = new IngestSink(plan(null), 0);
  await tsv.readPlainCsv(Readable.from([Buffer.from('x\ty\n0.5\t5\n')]), 'c.tsv', 9);
  assert.equal(tsv.rows, 1);
});
