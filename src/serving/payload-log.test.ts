import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadLog, tensorJson, type ServedRequest } from './payload-log.js';
import type { NewPayload, ServingStore } from './store.js';

const served = (i: number): ServedRequest => ({
  deployment: 'd',
  deploymentId: 1,
  requestId: `r${i}`,
  time: i,
  model: 'm',
  version: 1,
  protocol: 'oip-rest',
  status: 200,
  latencyMs: 1.23456,
  inputs: [{ name: 'x', type: 'float32', dims: [1, 2], data: Float32Array.from([1, Number.NaN]) }],
  outputs: [{ name: 'y', type: 'int64', dims: [1], data: BigInt64Array.from([7n]) }],
  error: null,
  sampled: true,
});

/** A store whose writes wait until released (a slow database). */
function slowStore() {
  const rows: NewPayload[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const store = {
    async insertPayloads(batch: readonly NewPayload[]) {
      await gate;
      rows.push(...batch);
    },
  } as unknown as ServingStore;
  return { store, rows, open: () => release(), close: () => (gate = new Promise<void>((r) => (release = r))) };
}

test('records are written in batches, in order, as OIP tensors', async () => {
  const s = slowStore();
  s.open();
  const log = new PayloadLog(s.store, { bufferSize: 100, batchSize: 10, flushIntervalMs: 5 }, () => undefined, () => undefined);
  for (let i = 0; i < 25; i++) assert.equal(log.add(served(i)), true);
  await log.flush();
  assert.deepEqual(s.rows.map((r) => r.request_id), Array.from({ length: 25 }, (_, i) => `r${i}`));
  assert.equal(s.rows[0]!.request, '[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,null]}]');
  assert.equal(s.rows[0]!.response, '[{"name":"y","datatype":"INT64","shape":[1],"data":[7]}]');
  assert.equal(s.rows[0]!.latency_ms, 1.235);
  assert.equal(log.written, 25);
  await log.close();
});

test('a full buffer drops records and counts them; adding never waits for the database', async () => {
  const s = slowStore();
  const drops: string[] = [];
  const log = new PayloadLog(s.store, { bufferSize: 5, batchSize: 2, flushIntervalMs: 1 }, (d) => drops.push(d), () => undefined);
  let accepted = 0;
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) if (log.add(served(i))) accepted++;
  assert.ok(performance.now() - t0 < 50, 'adding waited');
  assert.ok(accepted <= 7, `accepted ${accepted}`);
  assert.equal(log.dropped, 50 - accepted);
  assert.equal(drops.length, 50 - accepted);
  s.open();
  await log.flush();
  assert.equal(s.rows.length, accepted);
  await log.close();
});

test('a failed write drops its batch (counted and reported) and the log goes on', async () => {
  let fail = true;
  const rows: NewPayload[] = [];
  const reports: string[] = [];
  const store = {
    async insertPayloads(batch: readonly NewPayload[]) {
      if (fail) throw new Error('database away');
      rows.push(...batch);
    },
  } as unknown as ServingStore;
  const log = new PayloadLog(store, { bufferSize: 100, batchSize: 10, flushIntervalMs: 1 }, () => undefined, (_e, what) => reports.push(what));
  log.add(served(1));
  await log.flush();
  assert.equal(log.dropped, 1);
  assert.match(reports[0]!, /1 records could not be written/);
  fail = false;
  log.add(served(2));
  await log.flush();
  assert.deepEqual(rows.map((r) => r.request_id), ['r2']);
});

test('tensorJson: booleans, half floats and strings as JSON', () => {
  assert.deepEqual(tensorJson({ name: 'b', type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) }).data, [true, false]);
  assert.deepEqual(tensorJson({ name: 'h', type: 'float16', dims: [2], data: Uint16Array.from([0x3c00, 0xc000]) }).data, [1, -2]);
  assert.deepEqual(tensorJson({ name: 's', type: 'string', dims: [1], data: ['é'] }), { name: 's', datatype: 'BYTES', shape: [1], data: ['é'] });
});
