import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { linearExpected, linearModel } from '../../registry/packaging/test-models.js';
import { isKilnError } from '../../platform/errors.js';
import type { Tensor } from '../tensor.js';
import { Batcher, type BatcherOptions, type RunFn } from './batcher.js';
import { ModelSession } from './session.js';
import { batchSumModel, gatherModel } from './test-models.js';

const OPTS: BatcherOptions = { maxBatchSize: 16, maxQueueDelayMs: 0, maxQueueSize: 1000, timeoutMs: 10_000, batchable: true };

const rejectsWith = (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(isKilnError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });

/** x [r, 3] float32 and tag [r] string, from a caller number: row j of caller c holds c * 1000 + j * 10 + k. */
function request(c: number, rows: number): Tensor[] {
  const x = new Float32Array(rows * 3);
  for (let j = 0; j < rows; j++) for (let k = 0; k < 3; k++) x[j * 3 + k] = c * 1000 + j * 10 + k;
  const tag = Array.from({ length: rows }, (_, j) => `c${c}r${j}`);
  return [
    { name: 'x', type: 'float32', dims: [rows, 3], data: x },
    { name: 'tag', type: 'string', dims: [rows], data: tag },
  ];
}

/** A fake model: double = 2x [r, 3], sum = row sums [r], tag echoed [r]; takes `ms`; records each batch. */
function fakeModel(ms = 2) {
  const batches: { rows: number; keys: string }[] = [];
  const run: RunFn = async (inputs, outputNames) => {
    const x = inputs.find((t) => t.name === 'x') as Tensor;
    const tag = inputs.find((t) => t.name === 'tag');
    const rows = x.dims[0] as number;
    const inner = x.dims.slice(1);
    const width = inner.reduce((a, b) => a * b, 1);
    batches.push({ rows, keys: `${inner.join('x')}/${outputNames?.join(',') ?? '*'}` });
    await sleep(ms);
    const xd = x.data as Float32Array;
    const out: Tensor[] = [
      { name: 'double', type: 'float32', dims: x.dims, data: xd.map((v) => 2 * v) },
      { name: 'sum', type: 'float32', dims: [rows], data: Float32Array.from({ length: rows }, (_, j) => xd.subarray(j * width, (j + 1) * width).reduce((a, b) => a + b, 0)) },
      ...(tag ? [{ name: 'tag', type: 'string' as const, dims: [rows], data: tag.data as string[] }] : []),
    ];
    return outputNames ? out.filter((o) => outputNames.includes(o.name)) : out;
  };
  return { run, batches };
}

function checkOwn(c: number, rows: number, outputs: Tensor[]) {
  const byName = Object.fromEntries(outputs.map((o) => [o.name, o]));
  assert.deepEqual(byName.double?.dims, [rows, 3]);
  assert.deepEqual(byName.sum?.dims, [rows]);
  for (let j = 0; j < rows; j++) {
    for (let k = 0; k < 3; k++) assert.equal((byName.double?.data as Float32Array)[j * 3 + k], 2 * (c * 1000 + j * 10 + k), `caller ${c} row ${j}`);
    assert.equal((byName.sum?.data as Float32Array)[j], 3 * (c * 1000 + j * 10) + 3);
    assert.equal((byName.tag?.data as string[])[j], `c${c}r${j}`);
  }
}

describe('Batcher', () => {
  it('gives each of many concurrent callers exactly its own rows, in batches of at most maxBatchSize rows', async () => {
    const model = fakeModel();
    const seen: [number, number][] = [];
    const b = new Batcher(model.run, { ...OPTS, maxBatchSize: 16, onBatch: (rows, n) => seen.push([rows, n]) });
    const sizes = Array.from({ length: 300 }, (_, c) => (c % 23 === 0 ? 20 : 1 + ((c * 7) % 5)));
    const results = await Promise.all(sizes.map((rows, c) => b.submit(request(c, rows))));
    results.forEach((r, c) => checkOwn(c, sizes[c] as number, r.outputs));
    assert.equal(seen.length, model.batches.length);
    for (const [rows, n] of seen) assert.ok(rows <= 16 || n === 1, `a batch of ${rows} rows from ${n} requests`);
    assert.ok(seen.filter(([rows]) => rows > 16).length === sizes.filter((s) => s > 16).length, 'each oversize request ran alone, unsplit');
    assert.ok(seen.some(([, n]) => n > 4), 'requests were batched');
    assert.equal(b.counts.requests, 300);
    assert.equal(b.counts.rows, sizes.reduce((a, s) => a + s, 0));
    for (const r of results) assert.ok(r.batchRows >= 1 && r.queueMs >= 0 && r.inferMs >= 0);
    await b.close();
  });

  it('runs a request alone, with no added delay, when nothing else is queued', async () => {
    const model = fakeModel(0);
    const b = new Batcher(model.run, { ...OPTS, maxQueueDelayMs: 0 });
    const r = await b.submit(request(1, 2));
    checkOwn(1, 2, r.outputs);
    assert.equal(r.batchRows, 2);
    assert.ok(r.queueMs < 50, `queued ${r.queueMs} ms`);
    await b.close();
  });

  it('with a queue delay, waits for the oldest request’s delay, or less once the batch is full', async () => {
    const model = fakeModel(0);
    const b = new Batcher(model.run, { ...OPTS, maxBatchSize: 8, maxQueueDelayMs: 40 });
    const t0 = performance.now();
    const [a, c] = await Promise.all([b.submit(request(1, 1)), b.submit(request(2, 2))]);
    assert.ok(performance.now() - t0 >= 35, 'waited the delay');
    assert.equal(a.batchRows, 3);
    assert.equal(c.batchRows, 3);
    checkOwn(2, 2, c.outputs);
    const slow = new Batcher(model.run, { ...OPTS, maxBatchSize: 8, maxQueueDelayMs: 60_000 });
    const t1 = performance.now();
    const full = await Promise.all([slow.submit(request(3, 5)), slow.submit(request(4, 3))]);
    assert.ok(performance.now() - t1 < 1000, 'a full batch leaves at once');
    assert.equal(full[0].batchRows, 8);
    await Promise.all([b.close(), slow.close()]);
  });

  it('does not mix requests with other inner dimensions or other outputs', async () => {
    const model = fakeModel();
    const b = new Batcher(model.run, { ...OPTS, maxBatchSize: 64 });
    const wide = (c: number): Tensor[] => [{ name: 'x', type: 'float32', dims: [1, 4], data: new Float32Array(4).fill(c) }];
    const calls = [
      b.submit(request(0, 1)), // runs at once
      b.submit(request(1, 2)),
      b.submit(wide(2)),
      b.submit(request(3, 1), ['double']),
      b.submit(request(4, 1)),
      b.submit(wide(5)),
    ];
    const results = await Promise.all(calls);
    assert.deepEqual(results.map((r) => r.batchRows), [1, 3, 2, 1, 3, 2]);
    assert.deepEqual(results[3]?.outputs.map((o) => o.name), ['double']);
    assert.deepEqual([...(results[5]?.outputs[0]?.data as Float32Array)], [10, 10, 10, 10]);
    assert.deepEqual(new Set(model.batches.map((x) => x.keys)), new Set(['3/*', '4/*', '3/double']));
    await b.close();
  });

  it('refuses requests beyond maxQueueSize with a retryable 503, and times out those that wait too long', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const model = fakeModel(0);
    const b = new Batcher(
      async (inputs, names) => {
        await gate;
        return model.run(inputs, names);
      },
      { ...OPTS, maxQueueSize: 2, timeoutMs: 50 },
    );
    const running = b.submit(request(0, 1));
    await sleep(1);
    assert.equal(b.running, 1);
    const waiting = [b.submit(request(1, 1)), b.submit(request(2, 1))];
    assert.equal(b.pending, 2);
    await assert.rejects(b.submit(request(3, 1)), (e: unknown) => {
      assert.ok(isKilnError(e));
      assert.equal(e.status, 503);
      assert.equal(e.details?.retry_after_seconds, 1);
      assert.match(e.message, /queue of model 'model' is full \(2 requests waiting\)/);
      return true;
    });
    for (const w of waiting) await rejectsWith(w, 'TEMPORARILY_UNAVAILABLE', /timed out in the queue .* after 50 ms/);
    assert.equal(b.pending, 0);
    release();
    checkOwn(0, 1, (await running).outputs); // already running when its time ran out: not cut off
    await b.close();
  });

  it('runs each request alone when not batchable (still bounded), and finishes the queue on close', async () => {
    const model = fakeModel(1);
    const seen: [number, number][] = [];
    const b = new Batcher(model.run, { ...OPTS, batchable: false, onBatch: (rows, n) => seen.push([rows, n]) });
    const calls = Array.from({ length: 10 }, (_, c) => b.submit(request(c, 2)));
    const closed = b.close();
    await rejectsWith(b.submit(request(99, 1)), 'TEMPORARILY_UNAVAILABLE', /shutting down/);
    const results = await Promise.all(calls);
    await closed;
    results.forEach((r, c) => checkOwn(c, 2, r.outputs));
    assert.deepEqual(seen, Array.from({ length: 10 }, () => [2, 1]));
  });

  it('refuses inputs without a common first dimension', async () => {
    const b = new Batcher(fakeModel().run, OPTS);
    const bad: Tensor[] = [
      { name: 'x', type: 'float32', dims: [2, 3], data: new Float32Array(6) },
      { name: 'tag', type: 'string', dims: [1], data: ['a'] },
    ];
    await rejectsWith(b.submit(bad), 'INVALID_PARAMETER_VALUE', /same first dimension .* 'tag' has shape \[1\], expected 2 rows/);
    await rejectsWith(b.submit([{ name: 'x', type: 'float32', dims: [2, 3], data: new Float32Array(5) }]), 'INVALID_PARAMETER_VALUE', /5 values for shape \[2, 3\]/);
    await b.close();
  });
});

describe('Batcher over a ModelSession', () => {
  it('batches real inference across two workers and answers every caller with its rows', async () => {
    const s = await ModelSession.open(linearModel({ inputs: 4, outputs: 2 }), { sessions: 2, intraOpThreads: 1 });
    const rowsSeen: number[] = [];
    const b = new Batcher((i, o) => s.run(i, o), { ...OPTS, maxBatchSize: 32, maxConcurrentBatches: 2, onBatch: (rows) => rowsSeen.push(rows) });
    try {
      const xs = Array.from({ length: 200 }, (_, c) => Array.from({ length: 1 + (c % 4) }, (_, j) => [c, j, -c / 3, 1]));
      const results = await Promise.all(xs.map((x) => b.submit([{ name: 'x', type: 'float32', dims: [x.length, 4], data: new Float32Array(x.flat()) }])));
      results.forEach((r, c) => {
        const want = linearExpected(xs[c] as number[][], 2).flat();
        const got = r.outputs[0]?.data as Float32Array;
        assert.equal(got.length, want.length);
        want.forEach((w, i) => assert.ok(Math.abs((got[i] as number) - w) < 1e-3, `caller ${c}`));
      });
      assert.ok(Math.max(...rowsSeen) <= 32);
      assert.ok(rowsSeen.length < 200, `${rowsSeen.length} batches for 200 requests`);
    } finally {
      await b.close();
      await s.close();
    }
  });

  it('fails only the caller whose values the model cannot compute', async () => {
    const s = await ModelSession.open(gatherModel(), { name: 'gather' });
    const b = new Batcher((i, o) => s.run(i, o), { ...OPTS, name: 'gather' });
    try {
      const idx = (...v: number[]): Tensor[] => [{ name: 'idx', type: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) }];
      const calls = [b.submit(idx(0)), b.submit(idx(1, 2)), b.submit(idx(3, 9)), b.submit(idx(2))];
      const [r0, r1, bad, r3] = await Promise.allSettled(calls);
      assert.equal(bad?.status, 'rejected');
      assert.match(String((bad as PromiseRejectedResult).reason.message), /model 'gather' failed at inference/);
      assert.deepEqual([...((r0 as PromiseFulfilledResult<{ outputs: Tensor[] }>).value.outputs[0]?.data as Float32Array)], [0, 0]);
      assert.deepEqual([...((r1 as PromiseFulfilledResult<{ outputs: Tensor[] }>).value.outputs[0]?.data as Float32Array)], [1, 10, 2, 20]);
      assert.deepEqual([...((r3 as PromiseFulfilledResult<{ outputs: Tensor[] }>).value.outputs[0]?.data as Float32Array)], [2, 20]);
    } finally {
      await b.close();
      await s.close();
    }
  });

  it('refuses to split the output of a model that reduces over the batch; unbatched it works', async () => {
    const s = await ModelSession.open(batchSumModel(3), { name: 'sum' });
    const x = (v: number): Tensor[] => [{ name: 'x', type: 'float32', dims: [2, 3], data: new Float32Array(6).fill(v) }];
    const batched = new Batcher((i, o) => s.run(i, o), { ...OPTS, name: 'sum' });
    const alone = new Batcher((i, o) => s.run(i, o), { ...OPTS, name: 'sum', batchable: false });
    try {
      const calls = [batched.submit(x(1)), batched.submit(x(2)), batched.submit(x(3))];
      for (const c of calls) await rejectsWith(c, 'INVALID_STATE', /model 'sum' cannot be batched: its output 'y' has shape \[1, 3\] for a batch of \d+ rows.*batching off/);
      const r = await alone.submit(x(2));
      assert.deepEqual([...(r.outputs[0]?.data as Float32Array)], [4, 4, 4]);
    } finally {
      await Promise.all([batched.close(), alone.close()]);
      await s.close();
    }
  });
});
