/**
 * One "replica" of an event consumer in a process of its own, for tests that kill it: it opens the (already migrated)
 * store, consumes the event log under a shared consumer name and, for every event it handles, inserts a row
 * (consumer, event_id, replica) into `event_effects` through the consumer's transaction. The test reads that table
 * to see who handled what, and how often.
 *
 *   node dist/test/support/event-replica.js '{"storeUri":…,"consumer":…,"replica":…,"leaseMs":…,"pollIntervalMs":…,"holdMs":…}'
 *
 * Prints `ready` once the consumer runs. SIGTERM closes it cleanly (the lease is released) and exits 0; SIGKILL is the
 * crash the tests want. `holdMs` keeps each batch's transaction open that long after its writes, so that a kill
 * lands inside an open transaction.
 */
import { openStore } from '../../src/platform/db/index.js';
import { EventLog } from '../../src/platform/events/log.js';
import type { Transaction } from 'kysely';
import type { EffectTables } from './event-effects.js';

interface ReplicaOptions {
  readonly storeUri: string;
  readonly consumer: string;
  readonly replica: string;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly holdMs?: number;
  readonly batchSize?: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ReplicaOptions;
const store = await openStore(opts.storeUri, { poolSize: 2 });
const log = new EventLog(store, { leaseMs: opts.leaseMs, pollIntervalMs: opts.pollIntervalMs }, Date.now, (e, what) =>
  process.stderr.write(`${opts.replica}: ${what}: ${e instanceof Error ? e.message : String(e)}\n`),
);
await log.consume({
  name: opts.consumer,
  startAt: 'beginning',
  batchSize: opts.batchSize ?? 5,
  async handle(events, trx) {
    const t = trx as unknown as Transaction<EffectTables>;
    await t
      .insertInto('event_effects')
      .values(events.map((e) => ({ consumer: opts.consumer, event_id: e.id, replica: opts.replica })))
      .execute();
    if (opts.holdMs) await new Promise((r) => setTimeout(r, opts.holdMs));
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void (async () => {
    await log.close();
    await store.close();
    process.exit(0);
  })();
});
// The consumer's timers are unref'd: keep the process alive until it is told to stop.
setInterval(() => {}, 1 << 30);
