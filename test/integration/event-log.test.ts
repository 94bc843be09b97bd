import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Transaction } from 'kysely';
import { MIGRATIONS } from '../../src/migrations.js';
import { migrateToLatest, openStore, type MetadataStore } from '../../src/platform/db/index.js';
import { EventLog } from '../../src/platform/events/log.js';
import type { EventTables } from '../../src/platform/events/tables.js';
import type { KilnEvent, NewEvent } from '../../src/platform/events/types.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';
import { createEffectsTable, effectsOf, type EffectTables } from '../support/event-effects.js';

const REPLICA = join(process.cwd(), 'dist', 'test', 'support', 'event-replica.js');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const event = (type: string, data: Record<string, unknown> = {}): NewEvent => ({ type, actor: 'tester', time: Date.now(), subject: null, data });

/** A fresh, migrated store with the effects table; `run` gets it and a cleanup always follows. */
async function withStore(backend: 'sqlite' | 'postgres', run: (store: MetadataStore, uri: string) => Promise<void>): Promise<void> {
  const ts = await freshStore(backend);
  // A larger pool than the server's default: some tests keep many transactions open at once on PostgreSQL.
  const store = await openStore(ts.uri, { poolSize: 24 });
  try {
    await migrateToLatest(store, MIGRATIONS);
    await createEffectsTable(store);
    await run(store, ts.uri);
  } finally {
    await store.close();
    await ts.drop();
  }
}

/** A consumer handler that writes one effect row per event through the consumer's transaction. */
const writeEffects = (consumer: string, replica: string) => async (events: readonly KilnEvent[], trx: Transaction<object>) => {
  await (trx as unknown as Transaction<EffectTables>)
    .insertInto('event_effects')
    .values(events.map((e) => ({ consumer, event_id: e.id, replica })))
    .execute();
};

/** How many effect rows each event id has. */
async function effectCounts(store: MetadataStore, consumer: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const e of await effectsOf(store, consumer)) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
  return counts;
}

/** Asserts that `consumer` has exactly one effect for each of the ids 1..last and none other. */
async function assertEachOnce(store: MetadataStore, consumer: string, last: number): Promise<void> {
  const counts = await effectCounts(store, consumer);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = Array.from({ length: last }, (_, i) => i + 1).filter((id) => !counts.has(id));
  const unknown = [...counts.keys()].filter((id) => id < 1 || id > last);
  assert.deepEqual({ twice, missing, unknown }, { twice: [], missing: [], unknown: [] }, `each of the events 1..${last} is handled exactly once by '${consumer}'`);
}

interface Replica {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: () => string;
}

/** Starts test/support/event-replica.ts as a separate process (one that can be killed) and waits until it consumes. */
async function startReplica(opts: { storeUri: string; consumer: string; replica: string; leaseMs: number; pollIntervalMs: number; holdMs?: number; batchSize?: number }): Promise<Replica> {
  const child = spawn(process.execPath, [REPLICA, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await Promise.race([
    until(`replica ${opts.replica} to start`, () => out.includes('ready\n')),
    exited.then((code) => {
      throw new Error(`replica ${opts.replica} exited with ${code}: ${out}`);
    }),
  ]);
  return { child, exited, output: () => out };
}

async function leaseOwner(store: MetadataStore, consumer: string): Promise<string | null> {
  const row = await store.db.withTables<EventTables>().selectFrom('event_consumers').select('owner').where('name', '=', consumer).executeTakeFirst();
  return row?.owner ?? null;
}

/** Lease owners are `<host>:<pid>:<random>`. */
const ownedBy = (owner: string | null, pid: number | undefined) => owner !== null && pid !== undefined && owner.split(':')[1] === String(pid);

for (const backend of STORE_BACKENDS) {
  describe(`event log on ${backend}`, () => {
    it('leaves no event, and uses up no id, when the transaction rolls back', async () => {
      await withStore(backend, async (store) => {
        const errors: unknown[] = [];
        const log = new EventLog(store, { pollIntervalMs: 20 }, Date.now, (e) => errors.push(e));
        try {
          // The caller's work fails after emitting: nothing is appended.
          await assert.rejects(
            log.transaction(store.db, async (_trx, emit) => {
              emit(event('test.lost', { n: 1 }));
              emit(event('test.lost', { n: 2 }));
              throw new Error('the change failed');
            }),
            /the change failed/,
          );
          // The events were appended (ids taken from the sequence row) and then the transaction rolled back: the
          // append and the id it took go with it.
          await assert.rejects(
            store.db.transaction().execute(async (trx) => {
              const ids = await log.append(trx, [event('test.lost', { n: 3 })]);
              assert.deepEqual(ids, [1]);
              throw new Error('rolled back after the append');
            }),
            /rolled back after the append/,
          );
          assert.equal(await log.lastId(), 0);
          assert.deepEqual(await log.read(0, 100), []);

          await log.transaction(store.db, async (_trx, emit) => emit(event('test.kept', { n: 4 })));
          const all = await log.read(0, 100);
          assert.deepEqual(
            all.map((e) => [e.id, e.type, e.data.n]),
            [[1, 'test.kept', 4]],
            'the next committed event takes id 1: the rolled-back ones left no gap',
          );
          assert.equal(await log.lastId(), 1);

          // A consumer from the beginning sees exactly the committed event.
          const seen: number[] = [];
          const c = await log.consume({ name: 'all', handle: async (events) => void seen.push(...events.map((e) => e.id)) });
          await log.whenConsumed('all', 20_000);
          await c.close();
          assert.deepEqual(seen, [1]);
          assert.deepEqual(errors, []);
        } finally {
          await log.close();
        }
      });
    });

    it('numbers events consecutively in commit order, and readers only ever see a gapless prefix', async () => {
      await withStore(backend, async (store) => {
        const log = new EventLog(store, { pollIntervalMs: 10 });
        try {
          const handled: number[] = [];
          const consumer = await log.consume({ name: 'order', batchSize: 3, handle: async (events) => void handled.push(...events.map((e) => e.id)) });
          // A reader polling the log all along: every snapshot must be 1..n. A later-committed event with a smaller
          // id (or a visible id whose predecessor is not yet visible) would break that.
          let watching = true;
          const broken: string[] = [];
          let snapshots = 0;
          const watcher = (async () => {
            while (watching) {
              const ids = (await log.read(0, 10_000)).map((e) => e.id);
              snapshots++;
              if (!ids.every((id, i) => id === i + 1)) broken.push(ids.join(','));
              await sleep(1);
            }
          })();

          // Two waves of 8 overlapping transactions, the second started once the first has committed.
          const TX = 16;
          // When each transaction began and when its commit was acknowledged, on this process's clock.
          const span = new Map<number, { began: number; ended: number }>();
          const wave = (from: number) =>
            Array.from({ length: TX / 2 }, (_, i) => from + i).map((tx) =>
              log
                .transaction(store.db, async (trx, emit) => {
                  span.set(tx, { began: performance.now(), ended: Infinity });
                  // Real work of varying length before the events are appended, so transactions overlap.
                  await sleep((tx * 7) % 23);
                  await (trx as unknown as Transaction<EffectTables>).insertInto('event_effects').values({ consumer: 'work', event_id: tx, replica: 'x' }).execute();
                  for (let seq = 0; seq < (tx % 3) + 1; seq++) emit(event('test.order', { tx, seq }));
                })
                .then(() => void (span.get(tx)!.ended = performance.now())),
            );
          const outcomes = [...(await Promise.allSettled(wave(0))), ...(await Promise.allSettled(wave(TX / 2)))];
          // The reader stops before anything is asserted, so that a failure does not leave it reading a closed store.
          watching = false;
          await watcher;
          assert.deepEqual(
            outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
            [],
            'every transaction committed',
          );
          await log.whenConsumed('order', 20_000);
          await consumer.close();

          const all = await log.read(0, 10_000);
          const total = Array.from({ length: TX }, (_, tx) => (tx % 3) + 1).reduce((a, b) => a + b, 0);
          assert.deepEqual(
            all.map((e) => e.id),
            Array.from({ length: total }, (_, i) => i + 1),
            'ids 1..n, no gap',
          );
          // Each transaction's events are contiguous, in the order they were emitted.
          const byTx = new Map<number, KilnEvent[]>();
          for (const e of all) byTx.set(e.data.tx as number, [...(byTx.get(e.data.tx as number) ?? []), e]);
          for (const [tx, events] of byTx) {
            assert.deepEqual(events.map((e) => e.data.seq), Array.from({ length: (tx % 3) + 1 }, (_, i) => i), `transaction ${tx}: emit order`);
            assert.equal(events.at(-1)!.id - events[0]!.id, events.length - 1, `transaction ${tx}: contiguous ids`);
          }
          // A transaction that had committed before another began has the smaller ids. (The order in which
          // overlapping commits are acknowledged says nothing exact about the order they happened in on the server:
          // what readers can observe of that order is the gapless prefix the watcher checks.)
          let pairs = 0;
          for (const [x, sx] of span) {
            for (const [y, sy] of span) {
              if (sx.ended >= sy.began) continue;
              pairs++;
              assert.ok(byTx.get(x)!.at(-1)!.id < byTx.get(y)![0]!.id, `transaction ${x} committed before ${y} began, yet has larger ids`);
            }
          }
          assert.ok(pairs >= (TX / 2) ** 2, `the waves ran one after the other (${pairs} ordered pairs)`);
          assert.deepEqual(broken, [], `every one of ${snapshots} snapshots was a gapless prefix`);
          assert.ok(snapshots > 1, 'the reader ran while transactions were committing');
          assert.deepEqual(handled, all.map((e) => e.id), 'the consumer handled each event once, in id order');
        } finally {
          await log.close();
        }
      });
    });

    // The gap this guards against exists where writers run in parallel: on PostgreSQL an id taken early (an
    // auto-increment, a sequence) can commit after a larger one a consumer has already passed. SQLite has one writer
    // at a time, and two connections in one process would block each other's event loop, so this runs on PostgreSQL.
    if (backend === 'postgres') {
      it('lets no consumer skip the events of a transaction that appended first and commits last', async () => {
        await withStore(backend, async (store) => {
          const log = new EventLog(store, { pollIntervalMs: 10 });
          try {
            const handled: number[] = [];
            const consumer = await log.consume({ name: 'gap', handle: async (events) => void handled.push(...events.map((e) => e.id)) });

            // A: appends, then stays open.
            const appended = deferred();
            const release = deferred();
            let idsOfA: number[] = [];
            const a = store.db.transaction().execute(async (trx) => {
              idsOfA = await log.append(trx, [event('test.first', { who: 'A' })]);
              appended.resolve();
              await release.promise;
            });
            await appended.promise;
            // B: starts after A appended, and would commit long before A if nothing held it.
            let bDone = false;
            const b = log.transaction(store.db, async (_trx, emit) => emit(event('test.second', { who: 'B' }))).then(() => void (bDone = true));
            // Let the consumer poll many times while A is open.
            await sleep(600);
            const seenWhileOpen = [...handled];
            const bCommittedWhileAOpen = bDone;
            release.resolve();
            await Promise.all([a, b]);
            await log.whenConsumed('gap', 20_000);
            await consumer.close();

            const all = (await log.read(0, 100)).map((e) => e.id);
            assert.equal(all.length, 2);
            assert.deepEqual(handled, all, 'the consumer handled every committed event, once, in id order: nothing skipped');
            assert.deepEqual(
              (await log.read(0, 100)).map((e) => e.data.who),
              ['A', 'B'],
              'A took the smaller id',
            );
            assert.deepEqual(idsOfA, [all[0]]);
            // How: B could not number its events until A ended, so nothing of B was visible to skip A with.
            assert.equal(bCommittedWhileAOpen, false, 'B waited for A');
            assert.deepEqual(seenWhileOpen, [], 'nothing was visible while A was open');
          } finally {
            await log.close();
          }
        });
      });
    }

    it("applies a handler's writes exactly once when it throws on its first try", async () => {
      await withStore(backend, async (store) => {
        const errors: string[] = [];
        const log = new EventLog(store, { pollIntervalMs: 20 }, Date.now, (e) => errors.push(e instanceof Error ? e.message : String(e)));
        try {
          for (let i = 0; i < 3; i++) await log.transaction(store.db, async (_trx, emit) => [1, 2].forEach((n) => emit(event('test.effect', { i, n }))));
          let calls = 0;
          const consumer = await log.consume({
            name: 'flaky',
            async handle(events, trx) {
              calls++;
              await writeEffects('flaky', 'one')(events, trx);
              // The writes above are already made in the transaction: the throw must take them back.
              if (calls === 1) throw new Error('the handler failed after writing');
            },
          });
          await log.whenConsumed('flaky', 20_000);
          assert.ok(calls >= 2, `the batch was retried (${calls} calls)`);
          assert.deepEqual(errors, ['the handler failed after writing'], 'the failure was reported, once');
          await assertEachOnce(store, 'flaky', 6);

          // And the consumer goes on normally afterwards.
          await log.transaction(store.db, async (_trx, emit) => emit(event('test.effect', { i: 3, n: 1 })));
          await log.whenConsumed('flaky', 20_000);
          await consumer.close();
          await assertEachOnce(store, 'flaky', 7);
        } finally {
          await log.close();
        }
      });
    });

    it("starts a new consumer after the history with startAt 'latest', and keeps a known consumer's position", async () => {
      await withStore(backend, async (store) => {
        const log = new EventLog(store, { pollIntervalMs: 20 });
        try {
          for (let i = 0; i < 3; i++) await log.transaction(store.db, async (_trx, emit) => emit(event('test.old', { i })));
          const late = await log.consume({ name: 'late', startAt: 'latest', handle: writeEffects('late', 'one') });
          const early = await log.consume({ name: 'early', startAt: 'beginning', handle: writeEffects('early', 'one') });
          await log.transaction(store.db, async (_trx, emit) => [1, 2].forEach((i) => emit(event('test.new', { i }))));
          await log.whenConsumed('late', 20_000);
          await log.whenConsumed('early', 20_000);
          assert.deepEqual((await effectsOf(store, 'late')).map((e) => e.eventId).sort((x, y) => x - y), [4, 5], "'latest' skips the 3 events before it started");
          assert.deepEqual((await effectsOf(store, 'early')).map((e) => e.eventId).sort((x, y) => x - y), [1, 2, 3, 4, 5]);

          // Stopped, it misses an event; started again with 'latest', it resumes from its stored position rather
          // than skipping what was appended while it was away.
          await late.close();
          await log.transaction(store.db, async (_trx, emit) => emit(event('test.while-away')));
          const again = await log.consume({ name: 'late', startAt: 'latest', handle: writeEffects('late', 'one') });
          await log.whenConsumed('late', 20_000);
          await again.close();
          await early.close();
          assert.deepEqual((await effectsOf(store, 'late')).map((e) => e.eventId).sort((x, y) => x - y), [4, 5, 6]);
        } finally {
          await log.close();
        }
      });
    });

    it('resolves whenConsumed only once the consumer has handled everything committed before the call', async () => {
      await withStore(backend, async (store) => {
        const log = new EventLog(store, { pollIntervalMs: 20 });
        try {
          // A slow consumer, one event per transaction: it is far behind when whenConsumed is called.
          const consumer = await log.consume({
            name: 'slow',
            batchSize: 1,
            async handle(events, trx) {
              await sleep(30);
              await writeEffects('slow', 'one')(events, trx);
            },
          });
          for (let i = 0; i < 10; i++) await log.transaction(store.db, async (_trx, emit) => emit(event('test.slow', { i })));
          const behind = (await effectsOf(store, 'slow')).length;
          await log.whenConsumed('slow', 20_000);
          const after = (await effectsOf(store, 'slow')).length;
          await consumer.close();
          assert.ok(behind < 10, `the consumer was behind when whenConsumed was called (${behind} of 10 handled)`);
          assert.equal(after, 10, 'whenConsumed resolved only after all 10 were handled');
          // A consumer that nobody runs never catches up: whenConsumed says so after its timeout.
          await assert.rejects(log.whenConsumed('nobody', 300), /event consumer 'nobody' is at no position, not yet at 10/);
        } finally {
          await log.close();
        }
      });
    });

    it('shares one consumer between replicas: each event handled once in all, a killed holder and a closed one taken over from the stored position', async () => {
      await withStore(backend, async (store, storeUri) => {
        const name = 'shared';
        // This process is replica B. Its lease is long (60 s) on purpose: when B closes, the next replica can only
        // take over within the test's timeouts because B gives the lease up.
        const log = new EventLog(store, { pollIntervalMs: 50, leaseMs: 60_000 });
        const replicas: Replica[] = [];
        try {
          // Replica A, a separate process with a 2 s lease, keeps each batch's transaction open 150 ms: a kill lands
          // inside an open transaction whose effects must vanish with it.
          const a = await startReplica({ storeUri, consumer: name, replica: 'A', leaseMs: 2000, pollIntervalMs: 50, holdMs: 150, batchSize: 3 });
          replicas.push(a);
          let appended = 0;
          const append = async (n: number, gapMs: number) => {
            for (let i = 0; i < n; i++) {
              await log.transaction(store.db, async (_trx, emit) => emit(event('test.shared', { i: ++appended })));
              if (gapMs) await sleep(gapMs);
            }
          };
          await append(6, 0);
          await until('A to handle the first events', async () => (await effectsOf(store, name)).length >= 6);
          const b = await log.consume({ name, batchSize: 3, handle: writeEffects(name, 'B') });

          // Dirty: kill -9 A while it holds the lease and events keep coming.
          const writing = append(30, 20);
          await until('A to handle more events with B running', async () => (await effectsOf(store, name)).filter((e) => e.replica === 'A').length >= 12);
          const holder = await leaseOwner(store, name);
          a.child.kill('SIGKILL');
          await a.exited;
          await writing;
          assert.ok(ownedBy(holder, a.child.pid), `A held the lease when it was killed (owner ${holder})`);
          const lastBeforeClean = await log.lastId();
          await log.whenConsumed(name, 30_000);
          await assertEachOnce(store, name, lastBeforeClean);
          const afterKill = await effectsOf(store, name);
          const byA = afterKill.filter((e) => e.replica === 'A').map((e) => e.eventId);
          assert.ok(byA.length >= 12 && byA.length < lastBeforeClean, `A handled a part (${byA.length} of ${lastBeforeClean})`);
          assert.ok(
            afterKill.filter((e) => e.replica === 'B').every((e) => e.eventId > Math.max(...byA)),
            'B went on from where A stopped',
          );

          // Clean: C joins, B closes and releases the lease, C takes over at once.
          const c = await startReplica({ storeUri, consumer: name, replica: 'C', leaseMs: 2000, pollIntervalMs: 50, batchSize: 3 });
          replicas.push(c);
          await b.close();
          await append(10, 0);
          const last = await log.lastId();
          await log.whenConsumed(name, 20_000);
          await assertEachOnce(store, name, last);
          const byC = (await effectsOf(store, name)).filter((e) => e.replica === 'C').map((e) => e.eventId).sort((x, y) => x - y);
          assert.deepEqual(
            byC,
            Array.from({ length: last - lastBeforeClean }, (_, i) => lastBeforeClean + 1 + i),
            'C handled exactly the events after the position B left',
          );

          // C stops cleanly: it exits 0 and leaves the lease free.
          c.child.kill('SIGTERM');
          assert.equal(await c.exited, 0, c.output());
          assert.equal(await leaseOwner(store, name), null);
        } finally {
          await log.close();
          for (const r of replicas) {
            if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
            await r.exited;
          }
        }
      });
    });
  });
}

