import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addModel, int64Model, linearExpected, linearModel, notOnnxBytes, stringModel, unloadableModel } from '../../registry/packaging/test-models.js';
import { isKilnError } from '../../platform/errors.js';
import type { Tensor } from '../tensor.js';
import { ModelSession } from './session.js';
import { gatherModel, mlpModel } from './test-models.js';

const f32 = (name: string, dims: number[], values: number[]): Tensor => ({ name, type: 'float32', dims, data: new Float32Array(values) });
const close = (a: ArrayLike<number>, b: readonly number[], eps = 1e-4) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < eps, `${a[i]} ≈ ${b[i]} at ${i}`);
};
const rejectsWith = async (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(isKilnError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });

describe('ModelSession', () => {
  it('reports inputs and outputs as onnxruntime does, and runs the model', async () => {
    const s = await ModelSession.open(linearModel({ inputs: 3, outputs: 2 }), { name: 'lin' });
    try {
      assert.deepEqual(s.inputs, [{ name: 'x', type: 'float32', shape: ['N', 3] }]);
      assert.deepEqual(s.outputs, [{ name: 'y', type: 'float32', shape: ['N', 2] }]);
      const x = [
        [1, 2, 3],
        [-1, 0.5, 4],
      ];
      const [y] = await s.run([f32('x', [2, 3], x.flat())]);
      assert.equal(y?.name, 'y');
      assert.equal(y?.type, 'float32');
      assert.deepEqual(y?.dims, [2, 2]);
      assert.ok(y?.data instanceof Float32Array);
      close(y.data, linearExpected(x, 2).flat());
      assert.equal(s.inFlight, 0);
    } finally {
      await s.close();
    }
  });

  it('transfers whole-buffer inputs (the caller’s array is detached) and copies views into larger buffers', async () => {
    const s = await ModelSession.open(addModel());
    try {
      const a = new Float32Array([1, 2, 3]);
      const big = new Float32Array([0, 10, 20, 30, 0]);
      const b = big.subarray(1, 4);
      const [sum] = await s.run([
        { name: 'a', type: 'float32', dims: [1, 3], data: a },
        { name: 'b', type: 'float32', dims: [1, 3], data: b },
      ]);
      assert.deepEqual([...(sum?.data as Float32Array)], [11, 22, 33]);
      assert.equal(a.length, 0, 'transferred');
      assert.deepEqual([...big], [0, 10, 20, 30, 0], 'a view is copied, its buffer left alone');
    } finally {
      await s.close();
    }
  });

  it('carries int64 (BigInt) and string tensors, and selects outputs', async () => {
    const ints = await ModelSession.open(int64Model());
    const strs = await ModelSession.open(stringModel());
    try {
      const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i * 3));
      const [out] = await ints.run([{ name: 'ids', type: 'int64', dims: [2, 8], data: ids }], ['out']);
      assert.deepEqual([...(out?.data as Float32Array)], Array.from({ length: 16 }, (_, i) => i * 3));
      const [same] = await strs.run([{ name: 'text', type: 'string', dims: [3], data: ['a', 'héllo', ''] }]);
      assert.deepEqual(same?.data, ['a', 'héllo', '']);
      assert.equal(same?.type, 'string');
    } finally {
      await Promise.all([ints.close(), strs.close()]);
    }
  });

  it('fails only the call whose input the model cannot compute, with the model’s message', async () => {
    const s = await ModelSession.open(gatherModel(), { name: 'gather' });
    try {
      const ok = s.run([{ name: 'idx', type: 'int64', dims: [2], data: new BigInt64Array([1n, 3n]) }]);
      const bad = s.run([{ name: 'idx', type: 'int64', dims: [2], data: new BigInt64Array([1n, 7n]) }]);
      await rejectsWith(bad, 'INVALID_PARAMETER_VALUE', /^model 'gather' failed at inference: .*(out of|bounds)/i);
      assert.deepEqual([...((await ok)[0]?.data as Float32Array)], [1, 10, 3, 30]);
      await rejectsWith(s.run([f32('nope', [1], [1])]), 'INVALID_PARAMETER_VALUE', /failed at inference/);
      await rejectsWith(s.run([f32('idx', [1], [1])]), 'INVALID_PARAMETER_VALUE', /failed at inference/);
      const [again] = await s.run([{ name: 'idx', type: 'int64', dims: [1], data: new BigInt64Array([2n]) }]);
      assert.deepEqual([...(again?.data as Float32Array)], [2, 20]);
    } finally {
      await s.close();
    }
  });

  it('rejects bytes that do not load, leaving no worker behind', async () => {
    await rejectsWith(ModelSession.open(notOnnxBytes(), { name: 'junk' }), 'INVALID_PARAMETER_VALUE', /^model 'junk' does not load: /);
    await rejectsWith(ModelSession.open(unloadableModel(), { name: 'bad', sessions: 2 }), 'INVALID_PARAMETER_VALUE', /NoSuchOperatorKiln/);
    // Were a worker still running, the test process would not exit and the runner would time out.
  });

  it('spreads concurrent calls over its workers and answers each with its own rows', async () => {
    const s = await ModelSession.open(linearModel({ inputs: 2, outputs: 1 }), { sessions: 3, intraOpThreads: 1 });
    try {
      assert.equal(s.workers, 3);
      const calls = Array.from({ length: 60 }, (_, i) => s.run([f32('x', [1, 2], [i, -i / 2])]));
      assert.equal(s.inFlight, 60);
      const results = await Promise.all(calls);
      results.forEach(([y], i) => close(y?.data as Float32Array, linearExpected([[i, -i / 2]]).flat()));
      assert.equal(s.inFlight, 0);
    } finally {
      await s.close();
    }
  });

  it('fails the calls of a worker that dies, replaces it, and keeps serving', async () => {
    const s = await ModelSession.open(mlpModel([256, 1024, 1024, 10]), { name: 'mlp', intraOpThreads: 1 });
    try {
      s._crashWorker(0, 70);
      const inflight = [1, 2].map(() => s.run([{ name: 'x', type: 'float32', dims: [1, 256], data: new Float32Array(256) }]));
      assert.equal(s.inFlight, 2);
      for (const call of inflight) await rejectsWith(call, 'INTERNAL_ERROR', /inference worker of model 'mlp' exited unexpectedly \(code 70\)/);
      assert.equal(s.inFlight, 0);
      assert.equal(s.restarts, 1);
      const [y] = await s.run([{ name: 'x', type: 'float32', dims: [1, 256], data: new Float32Array(256).fill(0.01) }]);
      assert.deepEqual(y?.dims, [1, 10]);
      assert.equal(s.workers, 1);
    } finally {
      await s.close();
    }
  });

  it('close waits for calls in flight, then refuses new ones', async () => {
    const s = await ModelSession.open(mlpModel([256, 1024, 1024, 10]), { intraOpThreads: 1 });
    const x = new Float32Array(256 * 256).fill(0.02);
    const inflight = s.run([{ name: 'x', type: 'float32', dims: [256, 256], data: x }]);
    const closed = s.close();
    await rejectsWith(s.run([f32('x', [1, 256], new Array(256).fill(0))]), 'TEMPORARILY_UNAVAILABLE', /being unloaded/);
    const [y] = await inflight;
    assert.deepEqual(y?.dims, [256, 10]);
    await closed;
    assert.equal(s.workers, 0);
  });

  it('keeps the event loop free while the model computes', async () => {
    const s = await ModelSession.open(mlpModel([256, 1024, 1024, 1024, 10]), { intraOpThreads: 1 });
    try {
      const x = new Float32Array(1024 * 256).fill(0.01);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const t0 = performance.now();
      await s.run([{ name: 'x', type: 'float32', dims: [1024, 256], data: x }]);
      const ms = performance.now() - t0;
      clearInterval(timer);
      if (ms > 30) assert.ok(ticks >= 3, `the event loop ticked ${ticks} times during a ${ms.toFixed(0)} ms run`);
    } finally {
      await s.close();
    }
  });
});
