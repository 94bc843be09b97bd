import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { isKilnError } from '../../platform/errors.js';
import { inspectOnnx, OnnxInspectorPool } from './onnx-inspect.js';
import * as tm from './test-models.js';

const tmp = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function expectRefused(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isKilnError(e), `expected a KilnError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test('the linear fixture is a real model: onnxruntime computes x·W + b', async () => {
  const s = await ort.InferenceSession.create(tm.linearModel({ inputs: 4, outputs: 2 }), { logSeverityLevel: 3 });
  const x = [
    [1, 2, 3, 4],
    [0.5, -1, 0, 2],
  ];
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(x.flat()), [2, 4]) });
  const y = out.y;
  assert.ok(y);
  assert.deepEqual(y.dims, [2, 2]);
  const want = tm.linearExpected(x, 2).flat();
  Array.from(y.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - (want[i] ?? NaN)) < 1e-5, `${v} vs ${want[i]}`));
  assert.ok(Math.abs((want[0] ?? 0) - 3.5) < 1e-9); // 0.1+0.4+0.9+1.6 + 0.5
  await s.release();
});

test('inspects a model: proto facts, inputs/outputs as onnxruntime sees them, size and sha256', async () => {
  const bytes = tm.linearModel({ inputs: 4, outputs: 1, opset: 15, producerName: 'skl2onnx', producerVersion: '1.16.0', metadata: { a: 'b' } });
  const info = await inspectOnnx(bytes);
  assert.equal(info.ir_version, 8);
  assert.deepEqual(info.opset, [{ domain: '', version: 15 }]);
  assert.equal(info.producer_name, 'skl2onnx');
  assert.equal(info.producer_version, '1.16.0');
  assert.equal(info.graph_name, 'linear');
  assert.equal(info.doc_string, 'linear model y = xW + b');
  assert.deepEqual(info.metadata, { a: 'b' });
  // the initializers W and B are not inputs
  assert.deepEqual(info.inputs, [{ name: 'x', type: 'float32', shape: ['N', 4] }]);
  assert.deepEqual(info.outputs, [{ name: 'y', type: 'float32', shape: ['N', 1] }]);
  assert.equal(info.size_bytes, bytes.length);
  assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'));
});

test('element types and unknown dimensions', async () => {
  const i64 = await inspectOnnx(tm.int64Model());
  assert.deepEqual(i64.inputs, [{ name: 'ids', type: 'int64', shape: ['batch', 8] }]);
  assert.deepEqual(i64.outputs, [{ name: 'out', type: 'float32', shape: ['batch', 8] }]);
  const unk = await inspectOnnx(tm.unknownDimModel());
  assert.deepEqual(unk.inputs, [{ name: 'in', type: 'float32', shape: [null, 2] }]);
  const add = await inspectOnnx(tm.addModel({ dtype: 'float64' }));
  assert.deepEqual(
    add.inputs.map((i) => [i.name, i.type]),
    [
      ['a', 'float64'],
      ['b', 'float64'],
    ],
  );
  const fixed = await inspectOnnx(tm.linearModel({ batch: 1 }));
  assert.deepEqual(fixed.inputs[0]?.shape, [1, 4]);
});

test('bytes that are not a loadable ONNX model are refused with the reason', async () => {
  const good = tm.linearModel();
  await expectRefused(inspectOnnx(new Uint8Array(0)), 'INVALID_PARAMETER_VALUE', /^not an ONNX model: the file is empty \(0 bytes\)$/);
  await expectRefused(inspectOnnx(tm.notOnnxBytes()), 'INVALID_PARAMETER_VALUE', /^not an ONNX model: the bytes are not an ONNX protobuf/);
  await expectRefused(inspectOnnx(tm.truncated(good)), 'INVALID_PARAMETER_VALUE', /^not an ONNX model: /);
  await expectRefused(inspectOnnx(tm.truncated(good, 3)), 'INVALID_PARAMETER_VALUE', /^not an ONNX model: /);
  await expectRefused(
    inspectOnnx(tm.unloadableModel()),
    'INVALID_PARAMETER_VALUE',
    /^ONNX model does not load: .*No Op registered for NoSuchOperatorKiln/,
  );
  // the pool still answers after refusals
  assert.equal((await inspectOnnx(good)).inputs[0]?.name, 'x');
});

test('external data: named when missing, used when given', async () => {
  const ext = tm.externalDataModel('w.data');
  await assert.rejects(inspectOnnx(ext.onnx), (e: unknown) => {
    assert.ok(isKilnError(e));
    assert.match(e.message, /^ONNX model does not load: its weights are in external data file\(s\) not provided: w\.data$/);
    assert.deepEqual(e.details?.missing_external_data, ['w.data']);
    return true;
  });
  const info = await inspectOnnx(ext.onnx, { externalData: ext.files });
  assert.deepEqual(info.inputs, [{ name: 'x', type: 'float32', shape: ['N', 4] }]);
  assert.equal(info.size_bytes, ext.onnx.length + 16);
  await expectRefused(
    inspectOnnx(ext.onnx, { externalData: { 'w.data': new Uint8Array(8) } }),
    'INVALID_PARAMETER_VALUE',
    /reads bytes 0\.\.16 of w\.data, which holds 8 bytes/,
  );
});

test('a slow inspection times out, the worker is replaced, and the next model is inspected', async () => {
  const pool = new OnnxInspectorPool({ size: 1 });
  try {
    const big = tm.bigModel(40);
    await expectRefused(pool.inspect(big, { timeoutMs: 5 }), 'INVALID_PARAMETER_VALUE', /^ONNX model inspection timed out after 5 ms/);
    const info = await pool.inspect(tm.linearModel());
    assert.equal(info.outputs[0]?.name, 'y');
    assert.equal(pool.spawned, 2);
  } finally {
    await pool.close();
  }
});

test('a worker that dies or throws fails its job with INTERNAL_ERROR, and the pool recovers', async () => {
  const exits = join(tmp, 'exits.mjs');
  writeFileSync(exits, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(7));\n");
  const throws = join(tmp, 'throws.mjs');
  writeFileSync(throws, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('boom in worker'); });\n");
  for (const [file, pattern] of [
    [exits, /^ONNX inspection worker exited unexpectedly \(code 7\)$/],
    [throws, /^ONNX inspection worker crashed: boom in worker$/],
  ] as const) {
    const pool = new OnnxInspectorPool({ size: 1, workerUrl: pathToFileURL(file) });
    try {
      await expectRefused(pool.inspect(tm.linearModel()), 'INTERNAL_ERROR', pattern);
      await expectRefused(pool.inspect(tm.linearModel()), 'INTERNAL_ERROR', pattern);
      assert.equal(pool.spawned, 2);
    } finally {
      await pool.close();
    }
  }
});

test('the pool runs inspections side by side and queues the rest', async () => {
  const pool = new OnnxInspectorPool({ size: 2 });
  try {
    const models = [tm.linearModel(), tm.addModel(), tm.int64Model(), tm.unknownDimModel(), tm.linearModel({ inputs: 3 })];
    const infos = await Promise.all(models.map((m) => pool.inspect(m)));
    assert.deepEqual(
      infos.map((i) => i.inputs[0]?.name),
      ['x', 'a', 'ids', 'in', 'x'],
    );
    assert.equal(pool.spawned, 2);
    await pool.close();
    await expectRefused(pool.inspect(tm.linearModel()), 'INVALID_STATE', /closed/);
  } finally {
    await pool.close();
  }
});

test('a warm worker inspects a small model in a few milliseconds (measured)', async () => {
  const pool = new OnnxInspectorPool({ size: 1 });
  try {
    const bytes = tm.linearModel();
    let t = performance.now();
    await pool.inspect(bytes);
    const cold = performance.now() - t;
    const warm: number[] = [];
    for (let i = 0; i < 20; i++) {
      t = performance.now();
      await pool.inspect(bytes);
      warm.push(performance.now() - t);
    }
    warm.sort((a, b) => a - b);
    const p50 = warm[10] ?? 0;
    console.log(`# inspection of a ${bytes.length}-byte model: first (worker start) ${cold.toFixed(1)} ms, warm p50 ${p50.toFixed(2)} ms`);
    assert.ok(p50 < cold, 'a warm worker is faster than starting one');
  } finally {
    await pool.close();
  }
});
