import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bigModel, linearModel, unloadableModel } from '../../registry/packaging/test-models.js';
import { isKilnError } from '../../platform/errors.js';
import { ModelHost, type Loader } from './host.js';

const MiB = 2 ** 20;
const BIG = bigModel(1); // a little over 1 MiB: about 2 MiB by the host's estimate

const rejectsWith = (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(isKilnError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });

function counted(bytes: Uint8Array, delay?: Promise<void>): Loader & { calls: number } {
  const f = Object.assign(
    async () => {
      f.calls++;
      await delay;
      return { bytes, opts: { intraOpThreads: 1 } };
    },
    { calls: 0 },
  );
  return f;
}

describe('ModelHost', () => {
  it('loads a model once for concurrent first uses and serves it from then on', async () => {
    const loads: string[] = [];
    const host = new ModelHost({ budgetBytes: 100 * MiB, onLoad: (k) => loads.push(k) });
    const load = counted(linearModel({ inputs: 2 }));
    try {
      assert.deepEqual(host.state('m/1'), { state: 'absent' });
      const pending = [host.acquire('m/1', load), host.acquire('m/1', load), host.acquire('m/1', load)];
      assert.deepEqual(host.state('m/1'), { state: 'loading' });
      const leases = await Promise.all(pending);
      assert.equal(load.calls, 1);
      assert.deepEqual(loads, ['m/1']);
      assert.equal(leases[0]?.session, leases[2]?.session);
      assert.deepEqual(host.state('m/1'), { state: 'ready' });
      const [y] = await (leases[1]?.session.run([{ name: 'x', type: 'float32', dims: [1, 2], data: new Float32Array([1, 1]) }]) ?? []);
      assert.ok(Math.abs(((y?.data as Float32Array)[0] as number) - 0.8) < 1e-5);
      for (const l of leases) l.release();
      (await host.acquire('m/1', load)).release();
      assert.equal(load.calls, 1);
      assert.equal(host.counts.loads, 1);
      assert.equal(host.usedBytes, linearModel({ inputs: 2 }).byteLength * 2);
    } finally {
      await host.close();
    }
  });

  it('unloads the least recently used idle model to make room, never one in use', async () => {
    const unloaded: string[] = [];
    const host = new ModelHost({ budgetBytes: 5 * MiB, onUnload: (k, why) => unloaded.push(`${k}:${why}`) });
    const load = counted(BIG);
    try {
      await host.warm('a', load);
      await host.warm('b', load);
      (await host.acquire('a', load)).release(); // a is now more recent than b
      await host.warm('c', load);
      assert.deepEqual(unloaded, ['b:evicted']);
      assert.deepEqual(host.state('b'), { state: 'absent' });
      assert.deepEqual([host.state('a').state, host.state('c').state], ['ready', 'ready']);
      assert.equal(host.counts.evictions, 1);
      assert.ok(host.usedBytes <= 5 * MiB);

      const la = await host.acquire('a', load);
      const lc = await host.acquire('c', load);
      await rejectsWith(host.acquire('d', load), 'TEMPORARILY_UNAVAILABLE', /no room to load model 'd'.*all in use/);
      assert.deepEqual(host.state('d'), { state: 'absent' }, 'no room now is not remembered as a failure');
      lc.release();
      (await host.acquire('d', load)).release();
      assert.deepEqual(host.state('c'), { state: 'absent' });
      la.release();
      assert.equal(host.counts.loadFailures, 0);
    } finally {
      await host.close();
    }
  });

  it('remembers a failed load for the backoff, then tries again', async () => {
    const failures: string[] = [];
    const host = new ModelHost({ budgetBytes: 100 * MiB, failureBackoffMs: 300, onLoadFailure: (k, e) => failures.push(`${k}: ${e.message}`) });
    const load = counted(unloadableModel());
    try {
      await assert.rejects(host.acquire('bad/1', load), (e: unknown) => {
        assert.ok(isKilnError(e));
        assert.equal(e.status, 503);
        assert.match(e.message, /^model 'bad\/1' failed to load: model 'bad\/1' does not load: .*NoSuchOperatorKiln.*\(the next attempt is in 1 s\)$/s);
        assert.equal(e.details?.retry_after_seconds, 1);
        return true;
      });
      const st = host.state('bad/1');
      assert.equal(st.state, 'failed');
      assert.match(st.state === 'failed' ? st.error : '', /NoSuchOperatorKiln/);
      await rejectsWith(host.acquire('bad/1', load), 'TEMPORARILY_UNAVAILABLE', /failed to load/);
      await rejectsWith(host.whenReady('bad/1', 10), 'TEMPORARILY_UNAVAILABLE', /failed to load/);
      assert.equal(load.calls, 1, 'not loaded again within the backoff');
      assert.equal(failures.length, 1);
      assert.equal(host.usedBytes, 0);
      await sleep(320);
      await rejectsWith(host.acquire('bad/1', load), 'TEMPORARILY_UNAVAILABLE', /failed to load/);
      assert.equal(load.calls, 2);
      assert.equal(host.counts.loadFailures, 2);
    } finally {
      await host.close();
    }
  });

  it('reports a loader that throws and a model larger than the whole budget', async () => {
    const host = new ModelHost({ budgetBytes: 1 * MiB });
    try {
      await rejectsWith(
        host.acquire('gone', async () => {
          throw new Error('artifact not found: models/gone/1/model.onnx');
        }),
        'TEMPORARILY_UNAVAILABLE',
        /model 'gone' failed to load: artifact not found/,
      );
      await rejectsWith(host.acquire('big', counted(BIG)), 'TEMPORARILY_UNAVAILABLE', /needs about 2\.0 MB .* more than the whole serving memory budget of 1\.0 MB/);
      assert.equal(host.state('big').state, 'failed');
    } finally {
      await host.close();
    }
  });

  it('lets a request wait for a load with a bound', async () => {
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const host = new ModelHost({ budgetBytes: 100 * MiB });
    const load = counted(linearModel(), gate);
    try {
      await rejectsWith(host.whenReady('m', 10), 'RESOURCE_DOES_NOT_EXIST', /not loaded/);
      const first = host.acquire('m', load);
      await rejectsWith(host.whenReady('m', 20), 'TEMPORARILY_UNAVAILABLE', /'m' is loading/);
      await rejectsWith(host.acquire('m', load, { timeoutMs: 20 }), 'TEMPORARILY_UNAVAILABLE', /'m' is loading/);
      go();
      await host.whenReady('m', 5000);
      (await first).release();
      assert.equal(load.calls, 1);
    } finally {
      await host.close();
    }
  });

  it('unloads on request: calls in flight finish, later ones are refused, and a new acquire loads again', async () => {
    const host = new ModelHost({ budgetBytes: 100 * MiB });
    const load = counted(linearModel({ inputs: 2 }));
    try {
      const lease = await host.acquire('m', load);
      const inflight = lease.session.run([{ name: 'x', type: 'float32', dims: [1, 2], data: new Float32Array(2) }]);
      const unloaded = host.unload('m');
      assert.deepEqual(host.state('m'), { state: 'absent' });
      assert.equal(host.usedBytes, 0);
      await inflight;
      await unloaded;
      await rejectsWith(lease.session.run([{ name: 'x', type: 'float32', dims: [1, 2], data: new Float32Array(2) }]), 'TEMPORARILY_UNAVAILABLE', /being unloaded/);
      lease.release();
      lease.release();
      (await host.acquire('m', load)).release();
      assert.equal(load.calls, 2);

      let go!: () => void;
      const slow = counted(linearModel(), new Promise<void>((r) => (go = r)));
      const loading = host.acquire('s', slow);
      const dropped = host.unload('s');
      go();
      await rejectsWith(loading, 'TEMPORARILY_UNAVAILABLE', /unloaded while it loaded/);
      await dropped;
      assert.equal(host.state('s').state, 'absent');
    } finally {
      await host.close();
    }
    assert.equal(host.usedBytes, 0);
  });
});
