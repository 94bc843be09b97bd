import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS } from '../../src/migrations.js';
import { migrateToLatest, openStore } from '../../src/platform/db/index.js';
import { EventLog } from '../../src/platform/events/log.js';
import type { EventTables } from '../../src/platform/events/tables.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';

const DAY = 24 * 3600_000;

for (const backend of STORE_BACKENDS) {
  describe(`event log retention on ${backend}`, () => {
    it('deletes old events once every consumer active since then has handled them, and only those', async () => {
      const ts = await freshStore(backend);
      const store = await openStore(ts.uri);
      try {
        await migrateToLatest(store, MIGRATIONS);
        const db = store.db.withTables<EventTables>();
        let clock = 100 * DAY;
        const log = new EventLog(store, {}, () => clock);
        // Events 1-4 are 40 days old, 5-6 a day old.
        for (const [i, age] of [40, 40, 40, 40, 1, 1].entries()) {
          await log.transaction(db, async (_trx, emit) => emit({ type: 'test.e', actor: 't', time: clock - age * DAY, data: { i: i + 1 } }));
        }
        // An active consumer at 3 (it has handled 1-3), one idle for 60 days at 1, one active at 6.
        await db
          .insertInto('event_consumers')
          .values([
            { name: 'behind', position: 3, owner: null, lease_until: 0, updated_time: clock - 2 * DAY },
            { name: 'gone', position: 1, owner: null, lease_until: 0, updated_time: clock - 60 * DAY },
            { name: 'ahead', position: 6, owner: null, lease_until: 0, updated_time: clock - 1000 },
          ])
          .execute();
        const ids = async () => (await log.read(0, 100)).map((e) => e.id);

        assert.equal(await log.prune(clock - 30 * DAY), 3);
        assert.deepEqual(await ids(), [4, 5, 6], "event 4 waits for the active consumer 'behind'; the idle one holds nothing back");

        await db.updateTable('event_consumers').set({ position: 6, updated_time: clock }).where('name', '=', 'behind').execute();
        assert.equal(await log.prune(clock - 30 * DAY), 1);
        assert.deepEqual(await ids(), [5, 6], 'recent events stay whatever the consumers');
        assert.equal(await log.lastId(), 6, 'ids go on from the sequence, not from what is left');

        clock += 40 * DAY;
        assert.equal(await log.prune(clock - 30 * DAY), 2);
        assert.deepEqual(await ids(), []);
        await log.transaction(db, async (_trx, emit) => emit({ type: 'test.e', actor: 't', time: clock, data: {} }));
        assert.deepEqual(await ids(), [7]);
      } finally {
        await store.close();
        await ts.drop();
      }
    });
  });
}
